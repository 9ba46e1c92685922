/*
 * creds: the secret id, key and session token for cos:// and s3://
 * destinations, from the environment or a --credentials file, never from
 * the command line.  Errors name the variable, never a value.
 */
#ifndef DELIVER_CREDS_H
#define DELIVER_CREDS_H

#include <stddef.h>

#include "dest.h"
#include "sign.h"

struct creds {
	char	*id, *secret, *token;	/* token NULL when none */
	/* Where they came from, for --probe: static variable names. */
	const char *id_name, *secret_name, *token_name;
};

/* 0, or -1 with a one-line reason in why. */
int	creds_load(struct creds *, enum dest_kind, const char *file,
	    char *why, size_t whylen);
/* The view sign.h takes (pointers into c). */
void	creds_sign(const struct creds *, struct sign_creds *);
/* Wipe and free. */
void	creds_release(struct creds *);

#endif
