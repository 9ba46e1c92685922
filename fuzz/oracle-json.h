/*
 * oracle-json: the token-at-a-time JSON validator transform had before
 * its block scanner, the oracle of fuzz/fuzz-jsondiff.c (see
 * oracle-json.c).  Same contracts as json_is_container and
 * json_valid_index in transform/json.h.
 */
#ifndef LAKEPIPE_ORACLE_JSON_H
#define LAKEPIPE_ORACLE_JSON_H

#include <stddef.h>

struct json_top;

int	oracle_is_container(const char *, size_t);
int	oracle_valid_index(const char *, size_t, struct json_top *);

#endif
