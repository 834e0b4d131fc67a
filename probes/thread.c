/*
 * Case.thread (SC-04/05/06): runs the case's call in a second thread of the (forked) case
 * process, so that seccomp's KILL_THREAD (do_exit of the calling task only) can be told from
 * KILL_PROCESS (the whole thread group dies of SIGSYS), and a TSYNC install has a sibling to
 * synchronise (kernel/seccomp.c seccomp_can_sync_threads, seccomp_sync_threads).
 *
 * No libc threads: glibc's clone() with CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|
 * CLONE_THREAD|CLONE_SYSVSEM, CLONE_PARENT_SETTID for the tid and CLONE_CHILD_CLEARTID so the
 * kernel zeroes a word and wakes its futex when the thread is gone, whatever ended it
 * (kernel/fork.c mm_release → clear_child_tid). No CLONE_SETTLS: the thread shares the main
 * thread's TLS block, which is safe because the main thread only sleeps in raw futex calls
 * while the thread runs, and making a TLS of its own would mean copying glibc's private TCB.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "seccomp.h"
#include "thread.h"

#define TH_STACK_SIZE ((size_t)256 << 10)
#define TH_ALTSTACK_SIZE ((size_t)64 << 10)

const char *th_parse_line(struct th_setup **t, char **tok, int nt)
{
	if (strcmp(tok[0], "thread") != 0 && strcmp(tok[0], "tfilter") != 0)
		return NULL;
	if (!*t && !(*t = calloc(1, sizeof **t)))
		return "out of memory";
	if (strcmp(tok[0], "thread") == 0) {
		if (nt != 2 || (strcmp(tok[1], "before") != 0 && strcmp(tok[1], "after") != 0))
			return "thread takes before or after";
		(*t)->main_after = tok[1][0] == 'a';
		return "";
	}
	if (nt != 3)
		return "tfilter takes N HEX";
	/* The same program syntax as the case's own `filter N HEX` (probes/seccomp.c). */
	char kw[] = "filter";
	char *ft[3] = { kw, tok[1], tok[2] };
	const char *r = sc_parse_line(&(*t)->own, ft, 3);
	return r ? r : "tfilter was not taken";
}

void th_free(struct th_setup *t)
{
	if (!t)
		return;
	sc_free(t->own);
	free(t);
}

/* Shared between the two threads (same address space); each word is a futex. */
struct th_shared {
	struct th_setup *t;
	int (*call)(void *);
	void *arg;
	volatile int ready; /* 1: own filters installed; 2: an own install was refused */
	volatile int go;
	volatile int done;  /* 1 returned, 2 a handler ended the call: set after the call only */
	volatile pid_t ctid; /* zeroed by the kernel when the thread is gone */
	char *altstack;
	char why[160];
};

static long futex(volatile int *w, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, 0, 0);
}

static void wake(volatile int *w)
{
	futex(w, FUTEX_WAKE, 1, 0);
}

/* Wait until *w != old, or until the deadline (CLOCK_MONOTONIC ms); 0 when it changed. */
static int wait_change(volatile int *w, int old, long long deadline_ms)
{
	for (;;) {
		if (*w != old)
			return 0;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long left = deadline_ms - ((long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
		if (left <= 0)
			return -1;
		struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };
		futex(w, FUTEX_WAIT, old, &ts);
	}
}

static int thread_main(void *p)
{
	struct th_shared *s = p;
	/* copy_process clears the signal stack of a CLONE_VM task (kernel/fork.c: sas_ss_reset),
	 * and the probe's handlers run on one (SA_ONSTACK). */
	stack_t ss = { .ss_sp = s->altstack, .ss_size = TH_ALTSTACK_SIZE, .ss_flags = 0 };
	sigaltstack(&ss, 0);
	int ok = 1;
	if (s->t->own) {
		/* The thread's own filters: its filter tree now diverges from the main thread's. */
		if (sc_install(s->t->own, s->why, sizeof s->why) < 0)
			ok = 0;
		for (int i = 0; ok && i < s->t->own->nres; i++) {
			if (s->t->own->ret[i] != 0) {
				snprintf(s->why, sizeof s->why, "the second thread's own filter %d was refused: %s", i, strerror(s->t->own->err[i]));
				ok = 0;
			}
		}
	}
	s->ready = ok ? 1 : 2;
	wake(&s->ready);
	if (!ok)
		return 0;
	while (!s->go)
		futex(&s->go, FUTEX_WAIT, 0, 0);
	int sig = s->call(s->arg);
	s->done = sig ? 2 : 1;
	/* Return: glibc's clone() ends the thread with exit (not exit_group), which a seccomp
	 * filter on exit_group alone would not see either. */
	return 0;
}

int th_run(struct th_setup *t, int (*main_install)(void *), int (*call)(void *), void *arg,
	   unsigned timeout_ms, struct th_result *r, char *why, size_t whylen)
{
	/* One mapping: the thread's stack, its signal stack, and the shared words at the end.
	 * Never unmapped: the case process ends right after the report. */
	char *m = mmap(0, TH_STACK_SIZE + TH_ALTSTACK_SIZE + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (m == MAP_FAILED) {
		snprintf(why, whylen, "cannot map the second thread's stack: %s", strerror(errno));
		return -1;
	}
	struct th_shared *s = (struct th_shared *)(m + TH_STACK_SIZE + TH_ALTSTACK_SIZE);
	memset(s, 0, sizeof *s);
	s->t = t, s->call = call, s->arg = arg;
	s->altstack = m + TH_STACK_SIZE;
	const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
			  CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	pid_t tid = clone(thread_main, m + TH_STACK_SIZE, flags, s, &s->ctid, 0, &s->ctid);
	if (tid < 0) {
		/* An emulator without threads: the case cannot be made here. */
		snprintf(why, whylen, "clone(CLONE_THREAD) failed: %s", strerror(errno));
		return -2;
	}
	r->tid = tid;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long deadline = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 + timeout_ms;
	if (wait_change(&s->ready, 0, deadline) < 0) {
		snprintf(why, whylen, "the second thread (tid %d) did not start within %u ms", (int)tid, timeout_ms);
		return -1;
	}
	if (s->ready == 2) {
		/* Its own installs failed: wait for it to return, so nothing runs under half a set-up. */
		wait_change((volatile int *)&s->ctid, tid, deadline);
		snprintf(why, whylen, "%s", s->why[0] ? s->why : "the second thread's set-up failed");
		return -1;
	}
	if (main_install && main_install(arg) < 0) {
		snprintf(why, whylen, "the main thread's seccomp install failed");
		s->go = 1;
		wake(&s->go);
		wait_change((volatile int *)&s->ctid, tid, deadline);
		return -1;
	}
	s->go = 1;
	wake(&s->go);
	/* The kernel zeroes ctid and wakes it when the thread is gone (do_exit → mm_release). */
	if (wait_change((volatile int *)&s->ctid, tid, deadline) < 0) {
		snprintf(why, whylen, "the second thread (tid %d) was still running after %u ms", (int)tid, timeout_ms);
		return -1;
	}
	r->ended = s->done == 1 ? TH_RETURNED : s->done == 2 ? TH_SIGNAL : TH_KILLED;
	return 0;
}
