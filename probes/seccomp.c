/* seccomp filters for a probe case (issue 7): parse the `seccomp`/`filter` protocol lines
 * and install them the way a sandboxing program does (Documentation/userspace-api/
 * seccomp_filter.rst): PR_SET_NO_NEW_PRIVS first — without it and without CAP_SYS_ADMIN
 * the kernel refuses with EACCES (kernel/seccomp.c seccomp_prepare_filter) — then one
 * seccomp(SECCOMP_SET_MODE_FILTER) per program, oldest first. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "seccomp.h"
#include "hex.h"

static int hexn(const char *s, int n, unsigned long *out)
{
	unsigned long v = 0;
	for (int i = 0; i < n; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return 0;
		v = (v << 4) | (unsigned long)h;
	}
	*out = v;
	return 1;
}

static struct sc_setup *get(struct sc_setup **s)
{
	if (!*s)
		*s = calloc(1, sizeof **s);
	return *s;
}

const char *sc_parse_line(struct sc_setup **s, char **t, int nt)
{
	if (strcmp(t[0], "seccomp") == 0) {
		if (nt != 2 || strcmp(t[1], "strict") != 0)
			return "seccomp takes one field: strict";
		if (!get(s))
			return "out of memory";
		(*s)->strict = 1;
		return "";
	}
	if (strcmp(t[0], "filter") != 0)
		return 0;
	if (nt != 3)
		return "filter takes two fields: N HEX";
	char *end;
	unsigned long n = strtoul(t[1], &end, 10);
	/* BPF_MAXINSNS is 4096; larger ones are passed on so the kernel refuses them itself. */
	if (*end || n == 0 || n > 65535)
		return "filter length must be 1..65535";
	if (strlen(t[2]) != n * 16)
		return "filter HEX must hold 16 hex digits per instruction";
	if (!get(s))
		return "out of memory";
	if ((*s)->nfilters >= SC_MAX_FILTERS)
		return "too many filters";
	struct sock_filter *f = calloc(n, sizeof *f);
	if (!f)
		return "out of memory";
	for (unsigned long i = 0; i < n; i++) {
		const char *h = t[2] + i * 16;
		unsigned long code, jt, jf, k;
		if (!hexn(h, 4, &code) || !hexn(h + 4, 2, &jt) || !hexn(h + 6, 2, &jf) || !hexn(h + 8, 8, &k)) {
			free(f);
			return "filter HEX is not hexadecimal";
		}
		f[i] = (struct sock_filter){ (unsigned short)code, (unsigned char)jt, (unsigned char)jf, (unsigned int)k };
	}
	struct sc_filter *slot = &(*s)->f[(*s)->nfilters++];
	slot->len = (unsigned short)n;
	slot->insns = f;
	return "";
}

int sc_install(const struct sc_setup *s, char *why, size_t whylen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(why, whylen, "prctl(PR_SET_NO_NEW_PRIVS) failed: %s", strerror(errno));
		return -1;
	}
	if (s->strict) {
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0) != 0) {
			snprintf(why, whylen, "seccomp(SECCOMP_SET_MODE_STRICT) failed: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	for (int i = 0; i < s->nfilters; i++) {
		struct sock_fprog prog = { s->f[i].len, s->f[i].insns };
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
			snprintf(why, whylen, "installing seccomp filter %d (%u instructions) failed: errno %d (%s)",
				 i, s->f[i].len, errno, strerror(errno));
			return -1;
		}
	}
	return 0;
}

void sc_free(struct sc_setup *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nfilters; i++)
		free(s->f[i].insns);
	free(s);
}

int sc_available(const char **reason)
{
	pid_t pid = fork();
	if (pid == 0) {
		/* An allow-everything program: if the kernel takes it, filters work here. */
		struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		struct sock_fprog prog = { 1, &allow };
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			_exit(2);
		_exit(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : 3);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		*reason = "fork failed";
		return 0;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	*reason = WIFEXITED(st) && WEXITSTATUS(st) == 2 ? "PR_SET_NO_NEW_PRIVS refused" : "seccomp(SECCOMP_SET_MODE_FILTER) refused";
	return 0;
}
