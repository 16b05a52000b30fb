/* repo_rules.h - the repository's settings rules, internal to repo_scan.c (the name rules
 * are public in repo_scan.h and defined in repo_rules.c). Pure; any thread. */
#ifndef PD_API_REPO_RULES_H
#define PD_API_REPO_RULES_H

#include <stddef.h>

#include "api/repo_scan.h"

/* Parses a settings.json document (text, len bytes; borrowed) into p, which starts as
 * PD_REPO_POLICY_ALL (zeroed). Returns 0 (no version_policy member leaves p as it is),
 * PD_ENOMEM, or PD_EFORMAT with the reason in msg (msglen bytes, NUL-terminated). On
 * failure p may own memory: free it with pd__repo_policy_free. */
int pd__repo_settings_parse(const char *text, size_t len, pd_repo_policy_t *p, char *msg,
                            size_t msglen);

/* 1 when s ends with suffix (both borrowed). */
int pd__repo_name_has_suffix(const char *s, const char *suffix);

/* Frees what p owns and resets it to PD_REPO_POLICY_ALL. */
void pd__repo_policy_free(pd_repo_policy_t *p);

#endif
