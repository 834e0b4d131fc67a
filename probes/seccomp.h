/* seccomp set-up for a case (issue 7): the protocol lines `seccomp strict`, `filter N HEX`,
 * `filterx FLAGS NNP N HEX|null`, `seccomp then-strict` and `notify error|val|continue [X]`, installing them in the forked
 * case child right before the entry, and reporting each install's result (SC-06). */
#ifndef SYSABI_SECCOMP_H
#define SYSABI_SECCOMP_H
#include <stddef.h>

#define SC_MAX_FILTERS 64

struct sc_filter {
	unsigned short len;
	void *insns;        /* struct sock_filter[len] */
	unsigned int flags; /* SECCOMP_FILTER_FLAG_* */
	int nnp;            /* set PR_SET_NO_NEW_PRIVS before this install (else drop CAP_SYS_ADMIN) */
	int null;           /* pass a NULL struct sock_fprog pointer */
};

struct sc_setup {
	int strict;      /* SECCOMP_SET_MODE_STRICT instead of filters */
	int then_strict; /* SECCOMP_SET_MODE_STRICT after the filters */
	int nfilters;
	struct sc_filter f[SC_MAX_FILTERS];
	/* Each install's result, in order: seccomp(2)'s value and errno (0 when it succeeded). */
	int nres;
	long ret[SC_MAX_FILTERS + 1];
	int err[SC_MAX_FILTERS + 1];
	/* SC-04 (probes/notify.c): the `notify` line's answer, and the supervisor's shared report. */
	int notify; /* SC_NOTIFY_* */
	int notify_errno;
	unsigned long long notify_val;
	void *notify_shared;
};
enum { SC_NOTIFY_NONE, SC_NOTIFY_ERROR, SC_NOTIFY_VAL, SC_NOTIFY_CONTINUE };

/* probes/notify.c: start the supervisor before the first install (NULL, or why it could not:
 * a SKIP reason); hand it the listener fd; its report as `,"notify":{...}` (empty when none). */
const char *nt_start(struct sc_setup *s, char *why, size_t whylen);
void nt_listener(struct sc_setup *s, long fd);
void nt_json(const struct sc_setup *s, char *out, size_t outlen);

/* Parse one `seccomp ...` / `filter ...` / `filterx ...` line (tokens t[0..nt-1]). Returns
 * NULL when the line is not a seccomp line, "" when it was taken, or what is wrong. */
const char *sc_parse_line(struct sc_setup **s, char **t, int nt);
/* Install the set-up in order, recording every result in s->ret/err: a refusal does not stop
 * the later installs or the case. Returns 0; -1 when a step around the installs failed (why:
 * an error); -2 when the set-up cannot be made in this process (why: a SKIP reason). */
int sc_install(struct sc_setup *s, char *why, size_t whylen);
/* `,"seccomp_install":[{"ret":R,"errno":E},...]` for the observation, into out (NUL-ended);
 * empty when nothing was installed. */
void sc_results_json(const struct sc_setup *s, char *out, size_t outlen);
void sc_free(struct sc_setup *s);
/* Feature detection for `info`: 1 when this process may install a filter (tried in a
 * throw-away child), 0 when not; *reason says why not. */
int sc_available(const char **reason);
#endif
