/*
 * tcread: a decoder of the Thrift compact protocol, what a Parquet footer
 * and page headers need (consume/pqread.c), written from the protocol's
 * specification (thrift-compact-protocol.md).  A field is a header byte
 * (id delta << 4 | type), or a type byte and a zigzag varint id when the
 * delta is 0; integers are zigzag varints (i8 one byte); binary is a
 * varint length and the bytes; a struct ends with a 0 byte; a list or set
 * is a header byte (size << 4 | element type, size 15: a varint follows);
 * a map a varint size and, unless empty, a byte of its key and value
 * types; booleans are in the field header's type (1 true, 2 false), one
 * byte each in a list.
 *
 * The decoder reads from a buffer it does not own.  Errors are sticky:
 * once err is set (data short or malformed, nesting deeper than
 * TCR_DEPTH), every call returns zeros and tcr_field returns 0, so that a
 * caller checks err once, at the end.
 */
#ifndef CONSUME_TCREAD_H
#define CONSUME_TCREAD_H

#include <stddef.h>
#include <stdint.h>

/* Compact protocol type codes. */
enum { TCR_STOP, TCR_TRUE, TCR_FALSE, TCR_I8, TCR_I16, TCR_I32, TCR_I64,
	TCR_DOUBLE, TCR_BINARY, TCR_LIST, TCR_SET, TCR_MAP, TCR_STRUCT };

#define TCR_DEPTH	32

struct tcr {
	const unsigned char *p, *end;
	int		 err;
	int		 depth;		/* structs and containers open */
};

void	tcr_init(struct tcr *, const void *, size_t);
/*
 * The next field of the struct being read: 1 with its *id and *type
 * (*id holds the previous id on entry: 0 for a struct's first field),
 * or 0 at the struct's end (its stop byte) or on an error.
 */
int	tcr_field(struct tcr *, int *id, int *type);
/* An integer field or element of type (i8 to i64, or a boolean). */
int64_t	tcr_int(struct tcr *, int type);
/* A binary field: its length, *p pointing at its bytes. */
size_t	tcr_binary(struct tcr *, const unsigned char **p);
/* A list or set: its size and the elements' *type; they follow. */
uint32_t tcr_list(struct tcr *, int *type);
/* Enter a struct (a field or element of type TCR_STRUCT), and leave it
   after tcr_field returned 0. */
void	tcr_enter(struct tcr *);
void	tcr_leave(struct tcr *);
/* Skip a value of type. */
void	tcr_skip(struct tcr *, int type);

#endif
