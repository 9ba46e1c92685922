/*
 * topic: Pulsar topic names in the forms users have them.
 *
 *	persistent://tenant/namespace/topic	the full name
 *	non-persistent://tenant/namespace/topic
 *	tenant/namespace/topic			TDMQ's console form, where the
 *						tenant is the cluster id
 *						(pulsar-xxxxxxxx)
 *	topic					Pulsar's short form, in
 *						public/default
 */
#ifndef CONSUME_TOPIC_H
#define CONSUME_TOPIC_H

struct topic {
	char	*full;		/* domain://tenant/ns/local */
	char	*domain;	/* "persistent" or "non-persistent" */
	char	*tenant;
	char	*ns;
	char	*local;
};

/* 0, or -1 with *why set to what is wrong. */
int	topic_parse(struct topic *, const char *, const char **why);
void	topic_free(struct topic *);

#endif
