/* seccomp user notification for a probe case (SC-04): a supervisor task that receives the one
 * notification of the case's call on the listener fd (SECCOMP_FILTER_FLAG_NEW_LISTENER, v5.0)
 * and answers it as the case's `notify` line says (SECCOMP_IOCTL_NOTIF_RECV / _SEND,
 * kernel/seccomp.c seccomp_notify_recv, seccomp_notify_send).
 *
 * Why this shape: the notifying task sleeps in seccomp_do_user_notification until it is
 * answered, so the supervisor must be another task; it must not carry the case's filters
 * (its own ioctls would be filtered), so it is made before the first install; and it must see
 * the listener fd, which the install creates in the case process. clone(CLONE_FILES) gives it
 * the case process's descriptor table itself, so the fd appears there the moment the install
 * returns; the case process then only stores the number in shared memory — no system call
 * between the install and the call under test, which the filters could catch. The supervisor
 * dies with the case process (PR_SET_PDEATHSIG) and gives up after NT_LIMIT_MS. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "seccomp.h"

#define NT_LIMIT_MS 5000

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

/* Shared between the case process and its supervisor (MAP_SHARED: they have separate memory). */
struct nt_shared {
	volatile int fd;    /* -1: not yet; -2: no listener was created; else the listener */
	volatile int state; /* 0 waiting, 1 received, 2 answered, 3 gave up */
	struct seccomp_notif n;
	long send_ret;
	int send_err;
	char note[160];
};

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void give_up(struct nt_shared *sh, const char *what, int err)
{
	if (err)
		snprintf(sh->note, sizeof sh->note, "%s: %s", what, strerror(err));
	else
		snprintf(sh->note, sizeof sh->note, "%s", what);
	__atomic_store_n(&sh->state, 3, __ATOMIC_RELEASE);
	_exit(0);
}

static void supervise(struct nt_shared *sh, const struct sc_setup *s)
{
	long long deadline = ms_now() + NT_LIMIT_MS;
	/* Wait for the number the case process stores after its install (no syscall on its side). */
	while (__atomic_load_n(&sh->fd, __ATOMIC_ACQUIRE) == -1) {
		if (ms_now() > deadline)
			give_up(sh, "no listener fd within the supervisor's time limit", 0);
		struct timespec ts = { 0, 100000 };
		nanosleep(&ts, 0);
	}
	int fd = sh->fd;
	if (fd < 0)
		give_up(sh, "no listener: no install with new_listener succeeded", 0);
	struct pollfd p = { fd, POLLIN, 0 };
	int left = (int)(deadline - ms_now());
	int r = poll(&p, 1, left > 0 ? left : 0);
	if (r < 0)
		give_up(sh, "poll on the listener failed", errno);
	if (r == 0)
		give_up(sh, "no notification arrived within the supervisor's time limit", 0);
	/* seccomp_notify_recv refuses a buffer that is not zeroed (EINVAL). */
	struct seccomp_notif n;
	memset(&n, 0, sizeof n);
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0)
		give_up(sh, "SECCOMP_IOCTL_NOTIF_RECV failed", errno);
	sh->n = n;
	__atomic_store_n(&sh->state, 1, __ATOMIC_RELEASE);
	struct seccomp_notif_resp resp;
	memset(&resp, 0, sizeof resp);
	resp.id = n.id;
	if (s->notify == SC_NOTIFY_ERROR)
		resp.error = -s->notify_errno;
	else if (s->notify == SC_NOTIFY_VAL)
		resp.val = (__s64)s->notify_val;
	else
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	long sr = ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	sh->send_ret = sr;
	sh->send_err = sr < 0 ? errno : 0;
	__atomic_store_n(&sh->state, 2, __ATOMIC_RELEASE);
	_exit(0);
}

const char *nt_start(struct sc_setup *s, char *why, size_t whylen)
{
	struct nt_shared *sh = mmap(0, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		snprintf(why, whylen, "notify: mmap for the supervisor's report failed: %s", strerror(errno));
		return why;
	}
	memset(sh, 0, sizeof *sh);
	sh->fd = -1;
	s->notify_shared = sh;
	pid_t me = getpid();
	/* A fork that shares the descriptor table (no CLONE_VM: its own stack copy, so the raw
	 * clone returns into this frame like fork does). */
	long pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0) {
		snprintf(why, whylen, "notify: the supervisor could not be started: clone(CLONE_FILES) failed: %s", strerror(errno));
		return why;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != me)
			_exit(0);
		supervise(sh, s);
	}
	return 0;
}

void nt_listener(struct sc_setup *s, long fd)
{
	struct nt_shared *sh = s->notify_shared;
	if (sh && sh->fd == -1)
		__atomic_store_n(&sh->fd, (int)fd, __ATOMIC_RELEASE);
}

void nt_json(const struct sc_setup *s, char *out, size_t outlen)
{
	struct nt_shared *sh = s->notify_shared;
	out[0] = 0;
	if (!sh)
		return;
	/* The call returned once SEND was done, but the supervisor may not have stored SEND's
	 * result yet: wait a bounded while, without system calls (the filters are still on). */
	for (long i = 0; i < 200000000L && __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE) == 1; i++)
		__builtin_ia32_pause();
	int st = __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE);
	size_t n = (size_t)snprintf(out, outlen, ",\"notify\":{");
	if (st == 1 || st == 2) {
		const struct seccomp_notif *x = &sh->n;
		n += (size_t)snprintf(out + n, outlen > n ? outlen - n : 0,
				      "\"received\":{\"id\":\"0x%llx\",\"pid\":%u,\"flags\":%u,\"nr\":%d,\"arch\":%u,\"ip\":\"0x%llx\",\"args\":[",
				      (unsigned long long)x->id, (unsigned)x->pid, (unsigned)x->flags, x->data.nr,
				      (unsigned)x->data.arch, (unsigned long long)x->data.instruction_pointer);
		for (int i = 0; i < 6 && n < outlen; i++)
			n += (size_t)snprintf(out + n, outlen - n, "%s\"0x%llx\"", i ? "," : "", (unsigned long long)x->data.args[i]);
		if (n < outlen)
			n += (size_t)snprintf(out + n, outlen - n, "]}");
		if (st == 2 && n < outlen)
			n += (size_t)snprintf(out + n, outlen - n, ",\"send\":{\"ret\":%ld,\"errno\":%d}", sh->send_ret, sh->send_err);
		else if (n < outlen)
			n += (size_t)snprintf(out + n, outlen - n, ",\"note\":\"the supervisor did not report SEND's result in time\"");
	} else if (st == 3) {
		n += (size_t)snprintf(out + n, outlen > n ? outlen - n : 0, "\"note\":\"%s\"", sh->note);
	} else {
		n += (size_t)snprintf(out + n, outlen > n ? outlen - n : 0, "\"note\":\"the supervisor was still waiting for a notification\"");
	}
	if (n + 2 <= outlen)
		memcpy(out + n, "}", 2);
}
