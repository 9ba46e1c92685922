/*
 * thrift: an encoder of the Thrift compact protocol, just what a Parquet
 * footer and page headers need (structs, i32, i64, bool, double, binary,
 * lists), written from the protocol's specification
 * (thrift-compact-protocol.md): a field is a header byte (id delta << 4 |
 * type) or a type byte and a zigzag varint id when the delta is not 1..15;
 * integers are zigzag varints; binary is a varint length and the bytes; a
 * struct ends with a 0 byte; a list is a header byte (size << 4 | element
 * type) or 0xF0 | type and a varint size.
 *
 * The caller owns out; struct thrift only remembers, per open struct, the
 * last field id written (ids must increase within a struct, as the Parquet
 * IDL numbers them).  Nesting is bounded by TC_DEPTH; misuse is a bug and
 * aborts with errx.
 */
#ifndef TRANSFORM_THRIFT_H
#define TRANSFORM_THRIFT_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* Compact protocol type codes (4 bits). */
enum tc_type {
	TC_STOP = 0, TC_TRUE = 1, TC_FALSE = 2, TC_I8 = 3, TC_I16 = 4,
	TC_I32 = 5, TC_I64 = 6, TC_DOUBLE = 7, TC_BINARY = 8, TC_LIST = 9,
	TC_SET = 10, TC_MAP = 11, TC_STRUCT = 12
};

#define TC_DEPTH	16

struct thrift {
	struct buf	*out;
	int		 depth;		/* open structs */
	int16_t		 last[TC_DEPTH];
};

/* Start writing a top-level struct to out (its fields follow). */
void	tc_begin(struct thrift *, struct buf *out);
/* Close the top-level struct (its stop byte). */
void	tc_end(struct thrift *);

void	tc_i16(struct thrift *, int id, int16_t);
void	tc_i32(struct thrift *, int id, int32_t);
void	tc_i64(struct thrift *, int id, int64_t);
void	tc_bool(struct thrift *, int id, int);
void	tc_double(struct thrift *, int id, double);
void	tc_binary(struct thrift *, int id, const void *, size_t);
void	tc_string(struct thrift *, int id, const char *);
/* A struct field: its fields follow, then tc_struct_end. */
void	tc_struct(struct thrift *, int id);
void	tc_struct_end(struct thrift *);
/* A list field of n elements of type t, then the elements: */
void	tc_list(struct thrift *, int id, enum tc_type t, size_t n);
void	tc_elem_i32(struct thrift *, int32_t);
void	tc_elem_binary(struct thrift *, const void *, size_t);
/* A struct element of a list: its fields follow, then tc_struct_end. */
void	tc_elem_struct(struct thrift *);

/* The integer encodings, also used by the Parquet page encodings. */
void	tc_varint(struct buf *, uint64_t);
uint64_t tc_zigzag(int64_t);

#endif
