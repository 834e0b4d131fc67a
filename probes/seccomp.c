/* seccomp filters for a probe case (issue 7): parse the `seccomp`/`filter`/`filterx` protocol
 * lines and install them the way a sandboxing program does (Documentation/userspace-api/
 * seccomp_filter.rst): PR_SET_NO_NEW_PRIVS first — without it and without CAP_SYS_ADMIN
 * the kernel refuses with EACCES (kernel/seccomp.c seccomp_prepare_filter) — then one
 * seccomp(SECCOMP_SET_MODE_FILTER) per program, oldest first. Every install's result is
 * recorded for the observation (SC-06): the install rules are themselves under test. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
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

/* Parse `N HEX` into a new filter slot (N = 0 with HEX "-": an empty program). */
static const char *add_filter(struct sc_setup **s, const char *ns, const char *hx, struct sc_filter **out)
{
	char *end;
	unsigned long n = strtoul(ns, &end, 10);
	/* BPF_MAXINSNS is 4096; larger ones (and empty ones) are passed on so the kernel
	 * refuses them itself (SC-06). */
	if (*end || n > 65535)
		return "filter length must be 0..65535";
	if (n == 0 ? strcmp(hx, "-") != 0 : strlen(hx) != n * 16)
		return "filter HEX must hold 16 hex digits per instruction (- for none)";
	if (!get(s))
		return "out of memory";
	if ((*s)->nfilters >= SC_MAX_FILTERS)
		return "too many filters";
	/* One spare instruction so an empty program still has a valid, non-NULL address. */
	struct sock_filter *f = calloc(n + 1, sizeof *f);
	if (!f)
		return "out of memory";
	for (unsigned long i = 0; i < n; i++) {
		const char *h = hx + i * 16;
		unsigned long code, jt, jf, k;
		if (!hexn(h, 4, &code) || !hexn(h + 4, 2, &jt) || !hexn(h + 6, 2, &jf) || !hexn(h + 8, 8, &k)) {
			free(f);
			return "filter HEX is not hexadecimal";
		}
		f[i] = (struct sock_filter){ (unsigned short)code, (unsigned char)jt, (unsigned char)jf, (unsigned int)k };
	}
	struct sc_filter *slot = &(*s)->f[(*s)->nfilters++];
	*slot = (struct sc_filter){ .len = (unsigned short)n, .insns = f, .nnp = 1 };
	*out = slot;
	return "";
}

const char *sc_parse_line(struct sc_setup **s, char **t, int nt)
{
	if (strcmp(t[0], "seccomp") == 0) {
		if (nt != 2 || (strcmp(t[1], "strict") != 0 && strcmp(t[1], "then-strict") != 0))
			return "seccomp takes one field: strict or then-strict";
		if (!get(s))
			return "out of memory";
		if (strcmp(t[1], "strict") == 0)
			(*s)->strict = 1;
		else
			(*s)->then_strict = 1;
		return "";
	}
	/* notify error ERRNO | notify val HEX | notify continue (SC-04, probes/notify.c) */
	if (strcmp(t[0], "notify") == 0) {
		if (!get(s))
			return "out of memory";
		char *end = 0;
		if (nt == 2 && strcmp(t[1], "continue") == 0) {
			(*s)->notify = SC_NOTIFY_CONTINUE;
		} else if (nt == 3 && strcmp(t[1], "error") == 0) {
			long e = strtol(t[2], &end, 10);
			if (*end || e < 0 || e > 4095)
				return "notify error takes an errno number 0..4095";
			(*s)->notify = SC_NOTIFY_ERROR;
			(*s)->notify_errno = (int)e;
		} else if (nt == 3 && strcmp(t[1], "val") == 0) {
			(*s)->notify_val = strtoull(t[2], &end, 16);
			if (*end)
				return "notify val takes a hexadecimal value";
			(*s)->notify = SC_NOTIFY_VAL;
		} else {
			return "notify takes: error ERRNO, val HEX or continue";
		}
		return "";
	}
	struct sc_filter *slot = 0;
	if (strcmp(t[0], "filter") == 0) {
		if (nt != 3)
			return "filter takes two fields: N HEX";
		return add_filter(s, t[1], t[2], &slot);
	}
	if (strcmp(t[0], "filterx") != 0)
		return 0;
	/* filterx FLAGS NNP null | filterx FLAGS NNP N HEX */
	if (nt != 4 && nt != 5)
		return "filterx takes FLAGS NNP, then null or N HEX";
	char *end;
	unsigned long flags = strtoul(t[1], &end, 16);
	if (*end || flags > 0xffffffffUL)
		return "filterx FLAGS must be hexadecimal";
	if (strcmp(t[2], "0") != 0 && strcmp(t[2], "1") != 0)
		return "filterx NNP must be 0 or 1";
	const char *r;
	if (nt == 4) {
		if (strcmp(t[3], "null") != 0)
			return "filterx FLAGS NNP takes null or N HEX";
		r = add_filter(s, "0", "-", &slot);
		if (*r)
			return r;
		slot->null = 1;
	} else if (*(r = add_filter(s, t[3], t[4], &slot))) {
		return r;
	}
	slot->flags = (unsigned int)flags;
	slot->nnp = t[2][0] == '1';
	return "";
}

/* Drop CAP_SYS_ADMIN from the effective set (capset(2) may always lower it): a case that
 * leaves NO_NEW_PRIVS off must reach the kernel's EACCES check even when the probe runs as
 * root (kernel/seccomp.c seccomp_prepare_filter: ns_capable_noaudit(CAP_SYS_ADMIN)). */
static int drop_sys_admin(char *why, size_t whylen)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0) {
		snprintf(why, whylen, "capget failed: %s", strerror(errno));
		return -1;
	}
	d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	if (syscall(SYS_capset, &h, d) != 0) {
		snprintf(why, whylen, "capset (dropping CAP_SYS_ADMIN) failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void record(struct sc_setup *s, long r)
{
	s->ret[s->nres] = r;
	s->err[s->nres] = r < 0 ? errno : 0;
	s->nres++;
}

int sc_install(struct sc_setup *s, char *why, size_t whylen)
{
	s->nres = 0;
	if (s->strict) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
			snprintf(why, whylen, "prctl(PR_SET_NO_NEW_PRIVS) failed: %s", strerror(errno));
			return -1;
		}
		record(s, syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0));
		return 0;
	}
	/* The supervisor first, so it carries none of the filters (probes/notify.c). */
	if (s->notify && nt_start(s, why, whylen))
		return -2;
	int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	int dropped = 0;
	for (int i = 0; i < s->nfilters; i++) {
		struct sc_filter *f = &s->f[i];
		if (f->nnp && nnp != 1) {
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
				snprintf(why, whylen, "prctl(PR_SET_NO_NEW_PRIVS) failed: %s", strerror(errno));
				return -1;
			}
			nnp = 1;
		}
		if (!f->nnp && !dropped) {
			/* NO_NEW_PRIVS cannot be cleared: if the probe inherited it, the case's
			 * "without NNP" cannot be set up here. */
			if (nnp == 1 && i == 0) {
				snprintf(why, whylen, "no_new_privs: false needs a process without NO_NEW_PRIVS, but the probe inherited it (it cannot be cleared)");
				return -2;
			}
			if (drop_sys_admin(why, whylen) < 0)
				return -1;
			dropped = 1;
		}
		struct sock_fprog prog = { f->len, f->insns };
		long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, f->null ? (void *)0 : &prog);
		record(s, r);
		/* A NEW_LISTENER install returns the listener fd (kernel/seccomp.c seccomp_set_mode_filter). */
		if (s->notify && (f->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) && r >= 0)
			nt_listener(s, r);
	}
	if (s->notify)
		nt_listener(s, -2); /* no listener was made: the supervisor gives up at once */
	if (s->then_strict)
		record(s, syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0));
	return 0;
}

void sc_results_json(const struct sc_setup *s, char *out, size_t outlen)
{
	size_t n = 0;
	out[0] = 0;
	for (int i = 0; i < s->nres && n < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, "%s{\"ret\":%ld,\"errno\":%d}",
				      i ? "," : ",\"seccomp_install\":[", s->ret[i], s->err[i]);
	if (s->nres && n + 2 <= outlen)
		memcpy(out + n, "]", 2), n++;
	if (s->notify_shared && n < outlen)
		nt_json(s, out + n, outlen - n);
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
