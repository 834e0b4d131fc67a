/* The probe's ptrace tracer for a case (issue 7; docs/probe-protocol.md "ptrace"): the
 * protocol lines `ptrace`, `ptact`, `ptset`, `ptkill`, `ptrewind`, the tracee's side (stop
 * itself right before the entry, a marker call right after it) and the tracer's loop, which
 * the probe runs as the forked case child's parent. */
#ifndef SYSABI_PTRACE_H
#define SYSABI_PTRACE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PT_MAX_ACTIONS 16
#define PT_MAX_SETS 24

enum pt_stop { PT_ENTRY, PT_EXIT, PT_SECCOMP };
enum pt_mode { PT_MODE_SYSCALL, PT_MODE_SYSEMU, PT_MODE_CONT };

struct pt_action {
	enum pt_stop stop;
	int n;       /* the n-th stop of that kind, from 1 */
	int nset;
	int reg[PT_MAX_SETS]; /* index into the register names of ptrace.c */
	uint64_t val[PT_MAX_SETS];
	int kill_sig;  /* kill(tracee, sig) after SETREGS, before resuming; 0: none */
	int rewind;    /* rip -= 2 and rax = orig_rax: the tracer restarts the call (PT-06) */
};

struct pt_script {
	int sysgood, seccomp; /* PTRACE_O_TRACESYSGOOD, PTRACE_O_TRACESECCOMP */
	enum pt_mode mode;
	int nact;
	struct pt_action act[PT_MAX_ACTIONS];
	/* Which argument registers the stops report: 1 for 32-bit entries (ebx..ebp order),
	 * set by the probe from the case's entry and code. */
	int args32;
};

/* Parse one `ptrace ...`/`ptact`/`ptset`/`ptkill`/`ptrewind` line (tokens t[0..nt-1]).
 * Returns NULL when the line is not a ptrace line, "" when it was taken, or a message. */
const char *pt_parse_line(struct pt_script **s, char **t, int nt);
void pt_free(struct pt_script *s);

/* Tracee side, in the forked case child: PTRACE_TRACEME early (before any filter). */
int pt_child_traceme(void);
/* Tracee side, right before the entry: stop with SIGSTOP so the tracer can set options and
 * resume in the script's mode; `pid` is the child's own pid (no getpid under filters). */
void pt_child_stop(pid_t pid);
/* Tracee side, right after the case's call (returned or faulted): a getpid from a known
 * address. The tracer detaches at its entry stop, so nothing after it is recorded. */
void sysabi_pt_marker(void);

/* Tracer side: run the script against `pid` until it ends or `deadline_ms` (CLOCK_MONOTONIC
 * ms) passes. Returns 1 when the child ended (*status from waitpid), 0 on timeout (the child
 * is still there: the caller kills it). The events go to *events as a JSON array
 * ("[...]", malloc'd; NULL when no stop was recorded and the tracer never attached). */
int pt_trace(pid_t pid, const struct pt_script *s, long long deadline_ms, int *status, char **events, char *why, size_t whylen);
#endif
