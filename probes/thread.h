/* Case.thread (SC-04/05/06): the case's call runs in a second thread of the forked case
 * process. Protocol lines `thread before|after` and `tfilter N HEX` (docs/probe-protocol.md);
 * th_run() makes the thread with a raw clone, orders the seccomp installs around it and waits
 * for it to end. */
#ifndef SYSABI_THREAD_H
#define SYSABI_THREAD_H
#include <stddef.h>
#include <sys/types.h>

struct sc_setup;

struct th_setup {
	int main_after;      /* the main thread installs the case's filters after the clone */
	struct sc_setup *own; /* filters the second thread installs for itself, or NULL */
};

enum th_end { TH_RETURNED, TH_SIGNAL, TH_KILLED };

struct th_result {
	pid_t tid;
	enum th_end ended;
};

/* Parse one `thread ...` / `tfilter ...` line. NULL: not a thread line; "": taken; else the
 * problem. */
const char *th_parse_line(struct th_setup **t, char **tok, int nt);
void th_free(struct th_setup *t);
/* Run call(arg) in a second thread. Order: clone; the thread installs its own filters and
 * says it is ready; main_install(arg) runs in the main thread (the case's `after` filters,
 * NULL for none); the thread runs call(arg), whose return says whether a signal handler
 * ended the call (1) or it returned (0); the main thread waits up to timeout_ms for the
 * thread to be gone (CLONE_CHILD_CLEARTID). Returns 0 with *r filled, -1 with why (an error),
 * -2 with why (a SKIP reason: no thread could be made here). */
int th_run(struct th_setup *t, int (*main_install)(void *), int (*call)(void *), void *arg,
	   unsigned timeout_ms, struct th_result *r, char *why, size_t whylen);
#endif
