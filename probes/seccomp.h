/* seccomp set-up for a case (issue 7): the protocol lines `seccomp strict` and
 * `filter N HEX`, and installing them in the forked case child right before the entry. */
#ifndef SYSABI_SECCOMP_H
#define SYSABI_SECCOMP_H
#include <stddef.h>

#define SC_MAX_FILTERS 64

struct sc_filter {
	unsigned short len;
	void *insns; /* struct sock_filter[len] */
};

struct sc_setup {
	int strict; /* SECCOMP_SET_MODE_STRICT instead of filters */
	int nfilters;
	struct sc_filter f[SC_MAX_FILTERS];
};

/* Parse one `seccomp ...` / `filter ...` line (tokens t[0..nt-1]). Returns NULL when the
 * line is not a seccomp line, "" when it was taken, or a message saying what is wrong. */
const char *sc_parse_line(struct sc_setup **s, char **t, int nt);
/* PR_SET_NO_NEW_PRIVS, then each program with seccomp(SECCOMP_SET_MODE_FILTER) in order,
 * or strict mode. Returns 0, or -1 with the reason in why. */
int sc_install(const struct sc_setup *s, char *why, size_t whylen);
void sc_free(struct sc_setup *s);
/* Feature detection for `info`: 1 when this process may install a filter (tried in a
 * throw-away child), 0 when not; *reason says why not. */
int sc_available(const char **reason);
#endif
