/*
 * creds: the secret id, key and session token for cos:// and s3://
 * destinations, never from the command line.  Three sources, chosen by
 * --credentials SPEC:
 *
 *	(none)			the environment, read once
 *	FILE			NAME=VALUE lines; read again whenever the file
 *				changes (its inode, size or mtime), so that
 *				temporary keys rotated into it are used
 *	instance-role[:ROLE]	a CVM instance role's temporary keys from the
 *				metadata service (metadata.h), fetched again
 *				before they expire
 *
 * creds_sign() is called before every signature: it checks the source
 * (a stat(2) of the file; for a role, the clock) and renews the keys when
 * due, so a long run never signs with expired keys.  creds_renew() is for
 * a request the store refused: it renews at once, and says whether there
 * are other keys to try.  A failed renewal keeps the keys in hand (warned
 * once) and is tried again a second later.
 *
 * Errors and logs name the source and the variable, never a value; the
 * strings are wiped when replaced and at creds_release().
 */
#ifndef DELIVER_CREDS_H
#define DELIVER_CREDS_H

#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "dest.h"
#include "sign.h"

#define CREDS_ROLE_SPEC	"instance-role"

enum creds_source { CREDS_ENV, CREDS_FILE, CREDS_ROLE };

struct creds {
	char	*id, *secret, *token;	/* token NULL when none */
	/* Where they came from, for --probe: static variable names. */
	const char *id_name, *secret_name, *token_name;
	/* Renewal; see above. */
	enum creds_source source;
	enum dest_kind kind;
	char	*file;			/* CREDS_FILE: the path */
	struct stat st;			/* CREDS_FILE: as last read */
	char	*role;			/* CREDS_ROLE: the role's name */
	time_t	 expires;		/* CREDS_ROLE: 0 for none */
	double	 margin;		/* renew this long (s) before expires */
	double	 next_try;		/* monotime(): no renewal before */
	unsigned gen;			/* counts the keys in turn */
	int	 failing;		/* the last renewal failed (warned) */
};

/* Keys from spec (see above; NULL: the environment): 0, or -1 with why. */
int	creds_load(struct creds *, enum dest_kind, const char *spec,
	    char *why, size_t whylen);
/* For --check: creds_load() without contacting a metadata service. */
int	creds_check(enum dest_kind, const char *spec, char *why, size_t whylen);
/* Renew when due, then the view sign.h takes (pointers into c). */
void	creds_sign(struct creds *, struct sign_creds *);
/*
 * The store refused keys of generation gen (c->gen when they were
 * signed with): 1 when other keys are there now (renewed earlier, or
 * now), so that the request may go again; 0 when nothing changed.
 */
int	creds_renew(struct creds *, unsigned gen);
/*
 * Star out, in place, every occurrence in text of the id, the secret or
 * the token in hand: a store's error message is printed, and a store
 * (or a proxy on the way) may echo what it was sent.
 */
void	creds_redact(const struct creds *, char *text);
/* Wipe and free. */
void	creds_release(struct creds *);

#endif
