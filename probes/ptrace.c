/* The probe's ptrace tracer (issue 7; ABI-FACTS §4.3, §8.6 PT-01..PT-08). The forked case
 * child does PTRACE_TRACEME, stops itself with SIGSTOP right before the entry, and calls a
 * marker getpid right after it; its parent (the probe) is the tracer: PTRACE_SETOPTIONS,
 * then PTRACE_SYSCALL / PTRACE_SYSEMU / PTRACE_CONT as the script says, and at each stop of
 * the case's call PTRACE_GETREGS, PTRACE_GETEVENTMSG and PTRACE_GET_SYSCALL_INFO are
 * recorded before the script's PTRACE_SETREGS. The i386 probe is a 32-bit tracer reading the
 * 32-bit struct user_regs_struct, as a 32-bit debugger would. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "probe.h"
#include "ptrace.h"

/* include/uapi/linux/ptrace.h; defined here so old headers do not matter. */
#ifndef PTRACE_EVENT_SECCOMP
#define PTRACE_EVENT_SECCOMP 7
#endif
#define PT_O_TRACESYSGOOD 0x01
#define PT_O_TRACESECCOMP 0x80
#define PT_O_EXITKILL 0x100000
#define PT_GET_SYSCALL_INFO 0x420e
#define PT_REQ_SYSEMU 31

/* struct ptrace_syscall_info (v5.3): explicit offsets, the same for -m64, -mx32 and -m32. */
struct pt_sysinfo {
	uint8_t op;
	uint8_t reserved;
	uint16_t flags;
	uint32_t arch;
	uint64_t instruction_pointer;
	uint64_t stack_pointer;
	union {
		struct {
			uint64_t nr;
			uint64_t args[6];
		} entry;
		struct {
			int64_t rval;
			uint8_t is_error;
		} exit;
		struct {
			uint64_t nr;
			uint64_t args[6];
			uint32_t ret_data;
		} seccomp;
	} u;
} __attribute__((aligned(8)));

/* Names `ptset` takes: a 64-bit tracer's user_regs_struct names (docs/spec-language.md). */
static const char *const REGS[] = { "orig_rax", "rip", "rflags", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
				    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", 0 };
enum { R_ORIG, R_RIP, R_FLAGS, R_RAX, R_RBX, R_RCX, R_RDX, R_RSI, R_RDI, R_RBP, R_RSP, R_R8 };

/* ------------------------------------------------------------------ protocol lines */

static int parse_hex(const char *s, uint64_t *v)
{
	if (s[0] != '0' || s[1] != 'x' || !s[2])
		return 0;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s + 2, &end, 16);
	if (*end || errno || strlen(s + 2) > 16)
		return 0;
	*v = x;
	return 1;
}

static int parse_stop(const char *s, enum pt_stop *k)
{
	if (strcmp(s, "entry") == 0)
		*k = PT_ENTRY;
	else if (strcmp(s, "exit") == 0)
		*k = PT_EXIT;
	else if (strcmp(s, "seccomp") == 0)
		*k = PT_SECCOMP;
	else
		return 0;
	return 1;
}

/* The action for STOP N, created on first mention. */
static const char *action(struct pt_script *s, char **t, int nt, int want, struct pt_action **out)
{
	if (!s)
		return "a ptrace action line before the `ptrace` line";
	if (nt != want)
		return "wrong field count in a ptrace action line";
	enum pt_stop k;
	char *end;
	long n = strtol(t[2], &end, 10);
	if (!parse_stop(t[1], &k) || *end || n < 1 || n > 64)
		return "ptrace action: STOP must be entry, exit or seccomp and N 1..64";
	for (int i = 0; i < s->nact; i++)
		if (s->act[i].stop == k && s->act[i].n == n) {
			*out = &s->act[i];
			return "";
		}
	if (s->nact >= PT_MAX_ACTIONS)
		return "too many ptrace actions";
	struct pt_action *a = &s->act[s->nact++];
	memset(a, 0, sizeof *a);
	a->stop = k;
	a->n = (int)n;
	*out = a;
	return "";
}

const char *pt_parse_line(struct pt_script **sp, char **t, int nt)
{
	struct pt_action *a = 0;
	const char *r;
	if (strcmp(t[0], "ptrace") == 0) {
		/* ptrace OPTIONS MODE: options comma-separated (sysgood, seccomp) or `-`. */
		if (nt != 3)
			return "ptrace takes two fields: OPTIONS MODE";
		if (!*sp && !(*sp = calloc(1, sizeof **sp)))
			return "out of memory";
		struct pt_script *s = *sp;
		char opts[64];
		snprintf(opts, sizeof opts, "%s", t[1]);
		if (strcmp(opts, "-") != 0)
			for (char *save = 0, *o = strtok_r(opts, ",", &save); o; o = strtok_r(0, ",", &save)) {
				if (strcmp(o, "sysgood") == 0)
					s->sysgood = 1;
				else if (strcmp(o, "seccomp") == 0)
					s->seccomp = 1;
				else
					return "ptrace options are sysgood and seccomp";
			}
		if (strcmp(t[2], "syscall") == 0)
			s->mode = PT_MODE_SYSCALL;
		else if (strcmp(t[2], "sysemu") == 0)
			s->mode = PT_MODE_SYSEMU;
		else if (strcmp(t[2], "cont") == 0)
			s->mode = PT_MODE_CONT;
		else
			return "ptrace mode must be syscall, sysemu or cont";
		return "";
	}
	if (strcmp(t[0], "ptact") == 0)
		return action(*sp, t, nt, 3, &a);
	if (strcmp(t[0], "ptrewind") == 0) {
		if (*(r = action(*sp, t, nt, 3, &a)))
			return r;
		a->rewind = 1;
		return "";
	}
	if (strcmp(t[0], "ptkill") == 0) {
		if (*(r = action(*sp, t, nt, 4, &a)))
			return r;
		char *end;
		long sig = strtol(t[3], &end, 10);
		if (*end || sig < 1 || sig > 64)
			return "ptkill: signal number 1..64";
		a->kill_sig = (int)sig;
		return "";
	}
	if (strcmp(t[0], "ptset") == 0) {
		if (*(r = action(*sp, t, nt, 5, &a)))
			return r;
		int reg = -1;
		for (int i = 0; REGS[i]; i++)
			if (strcmp(REGS[i], t[3]) == 0)
				reg = i;
		uint64_t v;
		if (reg < 0)
			return "ptset: unknown register";
		if (!parse_hex(t[4], &v))
			return "ptset: bad value";
#ifndef __x86_64__
		if (reg >= R_R8)
			return "ptset: a 32-bit tracer has no r8..r15";
#endif
		if (a->nset >= PT_MAX_SETS)
			return "too many ptset lines for one stop";
		a->reg[a->nset] = reg;
		a->val[a->nset++] = v;
		return "";
	}
	return 0;
}

void pt_free(struct pt_script *s)
{
	free(s);
}

/* ------------------------------------------------------------------ tracee side */

int pt_child_traceme(void)
{
	return (int)ptrace(PTRACE_TRACEME, 0, 0, 0);
}

void pt_child_stop(pid_t pid)
{
	/* One raw kill: glibc's raise() blocks and restores the signal mask around tgkill, and
	 * under PTRACE_SYSEMU that restore would itself be emulated away. The stop happens on
	 * the way out of this kill, before the tracer asked for syscall stops, so it is the
	 * first stop the tracer sees (a signal-delivery-stop, kernel/signal.c ptrace_signal). */
	syscall(SYS_kill, pid, SIGSTOP);
}

/* getpid from a fixed place: the tracer knows sysabi_pt_marker_end (same binary, forked). */
#ifdef __x86_64__
#ifdef __ILP32__
#define MARKER_NR "0x40000027" /* x32 getpid: 39 | __X32_SYSCALL_BIT */
#else
#define MARKER_NR "39"
#endif
__asm__(".text\n.globl sysabi_pt_marker\n.type sysabi_pt_marker,@function\nsysabi_pt_marker:\n"
	"\tmov $" MARKER_NR ", %eax\n\tsyscall\n.globl sysabi_pt_marker_end\nsysabi_pt_marker_end:\n\tret\n"
	".size sysabi_pt_marker, .-sysabi_pt_marker\n");
#else
__asm__(".text\n.globl sysabi_pt_marker\n.type sysabi_pt_marker,@function\nsysabi_pt_marker:\n"
	"\tmov $20, %eax\n\tint $0x80\n.globl sysabi_pt_marker_end\nsysabi_pt_marker_end:\n\tret\n"
	".size sysabi_pt_marker, .-sysabi_pt_marker\n");
#endif
extern char sysabi_pt_marker_end[];

/* ------------------------------------------------------------------ tracer side */

struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->len;
		int n = vsnprintf(b->p ? b->p + b->len : 0, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* waitpid with a deadline. The probe keeps SIGCHLD blocked, and every ptrace stop sends the
 * tracer one (kernel/signal.c do_notify_parent_cldstop), so sigtimedwait sleeps until the
 * child stops or ends. 1: *st valid; 0: deadline passed; -1: waitpid failed. */
static int wait_until(pid_t pid, long long deadline, int *st)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		pid_t r = waitpid(pid, st, WNOHANG | __WALL);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
		long long left = deadline - mono_ms();
		if (left <= 0)
			return 0;
		struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };
		sigtimedwait(&chld, 0, &ts);
	}
}

/* The registers a stop reports, whatever the tracer's width. */
struct view {
	uint64_t orig, ax, ip, sp, flags, args[6];
};

#ifdef __x86_64__
typedef unsigned long long ureg;
#else
typedef unsigned long ureg;
#endif

static ureg *field(struct user_regs_struct *r, int reg)
{
#ifdef __x86_64__
	switch (reg) {
	case R_ORIG: return &r->orig_rax;
	case R_RIP: return &r->rip;
	case R_FLAGS: return &r->eflags;
	case R_RAX: return &r->rax;
	case R_RBX: return &r->rbx;
	case R_RCX: return &r->rcx;
	case R_RDX: return &r->rdx;
	case R_RSI: return &r->rsi;
	case R_RDI: return &r->rdi;
	case R_RBP: return &r->rbp;
	case R_RSP: return &r->rsp;
	case R_R8: return &r->r8;
	case R_R8 + 1: return &r->r9;
	case R_R8 + 2: return &r->r10;
	case R_R8 + 3: return &r->r11;
	case R_R8 + 4: return &r->r12;
	case R_R8 + 5: return &r->r13;
	case R_R8 + 6: return &r->r14;
	case R_R8 + 7: return &r->r15;
	}
#else
	/* A 32-bit tracer's struct user_regs_struct (arch/x86/include/asm/user_32.h). */
	switch (reg) {
	case R_ORIG: return (ureg *)&r->orig_eax;
	case R_RIP: return (ureg *)&r->eip;
	case R_FLAGS: return (ureg *)&r->eflags;
	case R_RAX: return (ureg *)&r->eax;
	case R_RBX: return (ureg *)&r->ebx;
	case R_RCX: return (ureg *)&r->ecx;
	case R_RDX: return (ureg *)&r->edx;
	case R_RSI: return (ureg *)&r->esi;
	case R_RDI: return (ureg *)&r->edi;
	case R_RBP: return (ureg *)&r->ebp;
	case R_RSP: return (ureg *)&r->esp;
	}
#endif
	return 0;
}

static void view_of(struct user_regs_struct *r, int args32, struct view *v)
{
	v->orig = *field(r, R_ORIG);
	v->ax = *field(r, R_RAX);
	v->ip = *field(r, R_RIP);
	v->sp = *field(r, R_RSP);
	v->flags = *field(r, R_FLAGS);
	/* The ABI's argument registers (ABI-FACTS §1): 32-bit entries use bx cx dx si di bp,
	 * 64-bit SYSCALL di si dx r10 r8 r9 (syscall_get_arguments, asm/syscall.h). */
	static const int a32[6] = { R_RBX, R_RCX, R_RDX, R_RSI, R_RDI, R_RBP };
#ifdef __x86_64__
	static const int a64[6] = { R_RDI, R_RSI, R_RDX, R_R8 + 2, R_R8, R_R8 + 1 };
	const int *a = args32 ? a32 : a64;
#else
	(void)args32;
	const int *a = a32;
#endif
	for (int i = 0; i < 6; i++)
		v->args[i] = *field(r, a[i]);
}

static const char *const STOP_NAMES[] = { "entry", "exit", "seccomp" };

static void record(struct sbuf *b, int nev, enum pt_stop k, int sig, int event, const struct view *v, uint64_t msg,
		   const struct pt_sysinfo *si, long silen)
{
	sb_add(b, "%s{\"kind\":\"ptrace\",\"stop\":\"%s\",\"sig\":%d,\"event\":%d,\"orig_rax\":\"0x%llx\",\"rax\":\"0x%llx\","
		  "\"rip\":\"0x%llx\",\"rsp\":\"0x%llx\",\"args\":[",
	       nev ? "," : "", STOP_NAMES[k], sig, event, (unsigned long long)v->orig, (unsigned long long)v->ax,
	       (unsigned long long)v->ip, (unsigned long long)v->sp);
	for (int i = 0; i < 6; i++)
		sb_add(b, "%s\"0x%llx\"", i ? "," : "", (unsigned long long)v->args[i]);
	sb_add(b, "],\"eventmsg\":\"0x%llx\"", (unsigned long long)msg);
	/* ptrace_get_syscall_info() returns how many bytes it filled; the op-specific part is
	 * there only for ops 1..3 (kernel/ptrace.c). Absent before v5.3 (EIO). */
	if (silen > 0) {
		sb_add(b, ",\"info\":{\"op\":%u,\"arch\":%u,\"instruction_pointer\":\"0x%llx\",\"stack_pointer\":\"0x%llx\"", si->op,
		       si->arch, (unsigned long long)si->instruction_pointer, (unsigned long long)si->stack_pointer);
		if (si->op == 1 || si->op == 3) {
			sb_add(b, ",\"nr\":\"0x%llx\",\"args\":[", (unsigned long long)si->u.entry.nr);
			for (int i = 0; i < 6; i++)
				sb_add(b, "%s\"0x%llx\"", i ? "," : "", (unsigned long long)si->u.entry.args[i]);
			sb_add(b, "]");
			if (si->op == 3)
				sb_add(b, ",\"ret_data\":%u", si->u.seccomp.ret_data);
		} else if (si->op == 2) {
			sb_add(b, ",\"rval\":\"0x%llx\",\"is_error\":%u", (unsigned long long)si->u.exit.rval, si->u.exit.is_error);
		}
		sb_add(b, "}");
	}
	sb_add(b, "}");
}

/* The script's action for this stop: SETREGS (write-back even when nothing changes, PT-02),
 * the tracer's restart (PT-06), then a signal to send while the tracee is stopped (PT-07). */
static int apply(pid_t pid, const struct pt_action *a, struct user_regs_struct *r, char *why, size_t whylen)
{
	for (int i = 0; i < a->nset; i++) {
		ureg *f = field(r, a->reg[i]);
		if (f)
			*f = (ureg)a->val[i];
	}
	if (a->rewind) {
		/* What ptrace_syscall.c's restart test does at a SYSEMU stop: back over the 2-byte
		 * entry instruction (syscall, int $0x80, or the vDSO's int $0x80 landing pad) with
		 * the number in rax again (orig_rax as just set), so the call is made once more. */
		*field(r, R_RIP) -= 2;
		*field(r, R_RAX) = *field(r, R_ORIG);
	}
	if (ptrace(PTRACE_SETREGS, pid, 0, r) != 0) {
		snprintf(why, whylen, "PTRACE_SETREGS at the %s stop #%d failed: %s", STOP_NAMES[a->stop], a->n, strerror(errno));
		return -1;
	}
	if (a->kill_sig)
		kill(pid, a->kill_sig);
	return 0;
}

int pt_trace(pid_t pid, const struct pt_script *s, long long deadline, int *st, char **events, char *why, size_t whylen)
{
	struct sbuf b = { 0, 0, 0, 0 };
	int nev = 0, attached = 0, detached = 0, in_syscall = 0, ended = 0;
	int seen[3] = { 0, 0, 0 };
	long req = s->mode == PT_MODE_SYSEMU ? PT_REQ_SYSEMU : s->mode == PT_MODE_CONT ? PTRACE_CONT : PTRACE_SYSCALL;
	*events = 0;
	why[0] = 0;
	for (;;) {
		int w = wait_until(pid, deadline, st);
		if (w == 0)
			break;
		if (w < 0) {
			snprintf(why, whylen, "waitpid on the traced case failed: %s", strerror(errno));
			*st = 0;
			ended = 1;
			break;
		}
		if (WIFEXITED(*st) || WIFSIGNALED(*st)) {
			ended = 1;
			break;
		}
		if (!WIFSTOPPED(*st))
			continue;
		int sig = WSTOPSIG(*st), event = (unsigned)*st >> 16;
		if (detached)
			continue; /* a stop from before the detach took effect cannot happen; be safe */
		if (!attached) {
			/* The child's own SIGSTOP: set the options and resume in the script's mode,
			 * dropping the SIGSTOP. EXITKILL: a dying probe takes its tracee with it. */
			if (sig != SIGSTOP) {
				ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig);
				continue;
			}
			long opts = PT_O_EXITKILL | (s->sysgood ? PT_O_TRACESYSGOOD : 0) | (s->seccomp ? PT_O_TRACESECCOMP : 0);
			if (ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)opts) != 0) {
				snprintf(why, whylen, "PTRACE_SETOPTIONS 0x%lx failed: %s", opts, strerror(errno));
				kill(pid, SIGKILL);
				continue;
			}
			attached = 1;
			ptrace(req, pid, 0, 0);
			continue;
		}
		enum pt_stop kind;
		if (event == PTRACE_EVENT_SECCOMP) {
			kind = PT_SECCOMP;
		} else if (event == 0 && (sig == (SIGTRAP | 0x80) || sig == SIGTRAP)) {
			/* Without TRACESYSGOOD a syscall stop and a real SIGTRAP both stop with
			 * SIGTRAP: the syscall stop's siginfo has si_code = the stop code
			 * (kernel/signal.c ptrace_do_notify), a real one a TRAP_* or SI_KERNEL code. */
			siginfo_t si;
			if (sig == SIGTRAP && (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) != 0 || si.si_code != SIGTRAP)) {
				ptrace(req, pid, 0, (void *)(long)sig);
				continue;
			}
			kind = PT_ENTRY; /* decided below */
		} else {
			/* A signal-delivery-stop: pass the signal on, as the case would see it untraced. */
			ptrace(req, pid, 0, (void *)(long)(event ? 0 : sig));
			continue;
		}
		struct user_regs_struct r;
		if (ptrace(PTRACE_GETREGS, pid, 0, &r) != 0) {
			snprintf(why, whylen, "PTRACE_GETREGS failed: %s", strerror(errno));
			kill(pid, SIGKILL);
			continue;
		}
		struct view v;
		view_of(&r, s->args32, &v);
		struct pt_sysinfo si;
		memset(&si, 0, sizeof si);
		long silen = ptrace(PT_GET_SYSCALL_INFO, pid, (void *)sizeof si, &si);
		unsigned long msg = 0;
		ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
		if (kind != PT_SECCOMP) {
			/* Entry or exit: GET_SYSCALL_INFO says (op 1/2), else they alternate; under
			 * SYSEMU every syscall stop is an entry stop. */
			if (silen > 0 && (si.op == 1 || si.op == 2))
				kind = si.op == 1 ? PT_ENTRY : PT_EXIT;
			else if (s->mode == PT_MODE_SYSEMU)
				kind = PT_ENTRY;
			else
				kind = in_syscall ? PT_EXIT : PT_ENTRY;
			in_syscall = kind == PT_ENTRY;
			/* The trampoline's own call after the case returns (sysabi_resume asks getpid
			 * when the result was 0, to tell a fork child: enter_*.S) lies between
			 * sysabi_resume and the entry stubs that follow it; not the case's call. */
			if (v.ip >= (uint64_t)(uintptr_t)sysabi_resume && v.ip < (uint64_t)(uintptr_t)sysabi_stub_syscall) {
				ptrace(req, pid, 0, 0);
				continue;
			}
			if (kind == PT_ENTRY && v.ip == (uint64_t)(uintptr_t)sysabi_pt_marker_end) {
				/* The case's call is over: let the child finish untraced. */
				ptrace(PTRACE_DETACH, pid, 0, 0);
				detached = 1;
				continue;
			}
		}
		record(&b, nev++, kind, sig, event, &v, msg, &si, silen);
		int n = ++seen[kind];
		const struct pt_action *a = 0;
		for (int i = 0; i < s->nact; i++)
			if (s->act[i].stop == kind && s->act[i].n == n)
				a = &s->act[i];
		if (a && apply(pid, a, &r, why, whylen) < 0) {
			kill(pid, SIGKILL);
			continue;
		}
		if (nev > 256) {
			snprintf(why, whylen, "more than 256 ptrace stops in one case; tracee killed");
			kill(pid, SIGKILL);
			continue;
		}
		ptrace(req, pid, 0, 0);
	}
	if (attached || nev) {
		struct sbuf out = { 0, 0, 0, 0 };
		sb_add(&out, "[%s]", b.p ? b.p : "");
		*events = out.oom ? 0 : out.p;
	}
	free(b.p);
	return ended;
}
