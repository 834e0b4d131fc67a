/*
 * sysabi probe: runs Cases on the real kernel (or under an emulator running this static
 * binary). Reads Cases in the line protocol of docs/probe-protocol.md on stdin and writes
 * one Observation per line, as JSON, on stdout. Built once per ABI (-m64, -m32, -mx32).
 *
 * Plain register cases run in this process with their faults caught on an alternate
 * signal stack and recovered with a longjmp (probes/jump.h); cases marked isolate run in a child of their
 * own (a CLONE_VM child for calls that cannot touch the address space, a fork otherwise)
 * with limits, a private directory and a time limit, writing their observation into memory
 * shared with the probe (exec cases, which replace the child's image, through a pipe).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "probe.h"
#include "seccomp.h"
#include "ptrace.h"
#include "vdso.h"
#include "hex.h"
#include "post.h"
#include "hwbp.h"
#include "jump.h"
#include "before.h"
#include "setup.h"
#include "traps.h"
#include "maps.h"
#include "include/sysabi_nr.h"
#include "thread.h"

/* seccomp set-up (probes/seccomp.c, issue 7) is linked in when the build has it; weak
 * references keep the probe building and working without it (no `seccomp` lines then). */
#pragma weak sc_parse_line
#pragma weak sc_install
#pragma weak sc_free
#pragma weak sc_results_json

#define PROTOCOL_VERSION 1

#if defined(__x86_64__) && defined(__ILP32__)
#define PROBE_ABI "x32"
#elif defined(__x86_64__)
#define PROBE_ABI "x86_64"
#else
#define PROBE_ABI "i386"
#endif
#ifdef __x86_64__
#define CODE64 1
#define NGPR 16
#else
#define CODE64 0
#define NGPR 8
#endif

_Static_assert(offsetof(struct sysabi_frame, rflags) == FR_RFLAGS, "frame layout");
_Static_assert(offsetof(struct sysabi_frame, rip) == FR_RIP, "frame layout");
_Static_assert(offsetof(struct sysabi_frame, seg) == FR_CS, "frame layout");
_Static_assert(sizeof(struct sysabi_frame) == FR_SIZE, "frame layout");
_Static_assert(offsetof(struct sysabi_ctl, before) == CTL_BEFORE, "ctl layout");
_Static_assert(offsetof(struct sysabi_ctl, after) == CTL_AFTER, "ctl layout");
_Static_assert(offsetof(struct sysabi_ctl, target) == CTL_TARGET, "ctl layout");
_Static_assert(offsetof(struct sysabi_ctl, call) == CTL_CALL, "ctl layout");
_Static_assert(offsetof(struct sysabi_ctl, hostsp) == CTL_HOSTSP, "ctl layout");
_Static_assert(offsetof(struct sysabi_ctl, flags) == CTL_FLAGS, "ctl layout");
_Static_assert(offsetof(struct sysabi_ctl, resume) == CTL_RESUME, "ctl layout");

/* The globals a forked child writes for every case share one page-aligned section of
 * about 2 KiB (.data.sysabi_child), so the child pays one copy-on-write fault for them
 * instead of one per page they happened to land on (mm/memory.c: do_wp_page). Keep it
 * under a page: test/native/isolation.test.ts checks the built probes. */
#define CHILD_HOT __attribute__((section(".data.sysabi_child")))
/* A .balign in the section raises its alignment to a page wherever gcc emits it. */
__asm__(".pushsection .data.sysabi_child,\"aw\"\n\t.balign 4096\n\t.popsection");
CHILD_HOT struct sysabi_ctl sysabi_ctl __attribute__((aligned(64)));
/* This process's pid, for sysabi_resume to tell a child made by the case (fork, vfork,
 * clone return twice) from the probe itself. */
CHILD_HOT uint64_t sysabi_self_pid;
#ifdef __x86_64__
CHILD_HOT struct sysabi_farptr sysabi_far32;
CHILD_HOT struct sysabi_farptr sysabi_far64;
CHILD_HOT uint16_t sysabi_compat_ds;
static uint16_t g_cs, g_ss; /* the probe's own selectors, read at start */
#endif

/* ------------------------------------------------------------------ names */

static const char *const GPR_NAMES[16] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const SEG_NAMES[6] = { "cs", "ss", "ds", "es", "fs", "gs" };
/* sigreturn registers: 0..15 GPRs, 16 rip, 17 rflags, 18..23 selectors. */
#define SR_RIP 16
#define SR_RFLAGS 17
#define SR_SEG0 18
#define SR_COUNT 24

/* E_NONE: a nop where the entry instruction would be (RT-03). */
enum entry { E_SYSCALL, E_INT80, E_SYSENTER, E_VDSO, E_VDSO_FN, E_VSYSCALL, E_SIGRETURN, E_EXEC, E_NONE };
static const char *const ENTRY_NAMES[] = { "syscall", "int80", "sysenter", "vdso", "vdso_fn", "vsyscall", "sigreturn", "exec", "none", 0 };
enum ref { R_LIT, R_BUF, R_UNMAPPED, R_FD, R_PID, R_TID, R_PPID, R_UID, R_GID, R_RFLAGS };
static const char *const REF_NAMES[] = { "lit", "buf", "unmapped", "fd", "pid", "tid", "ppid", "uid", "gid", "rflags_in", 0 };
enum prot { P_R, P_RW, P_NONE };
static const char *const PROT_NAMES[] = { "r", "rw", "none", 0 };
enum place { PL_ANY, PL_LOW32, PL_EOP };
static const char *const PLACE_NAMES[] = { "anywhere", "low32", "end_of_page", 0 };
enum fdkind { FK_NULL, FK_FILE, FK_PIPE, FK_CLOSED };
static const char *const FD_NAMES[] = { "null", "file", "pipe", "closed", 0 };
enum disp { D_NONE, D_DEFAULT, D_IGNORE, D_RECORD };
static const char *const DISP_NAMES[] = { "none", "default", "ignore", "record", 0 };

#define NAME_MAX_LEN 64
#define MAX_MEM 16
#define MAX_FDS 16
#define MAX_DELIVERED 16
#define NSIG_MAX 65
#define TRAP_LIMIT 100000 /* single-step traps before a TF case is declared stuck */

struct operand {
	enum ref ref;
	char name[NAME_MAX_LEN];
	uint64_t lit, add, or;
};

struct region {
	char name[NAME_MAX_LEN];
	uint64_t size;
	enum prot prot;
	enum place place;
	int has_at;
	uint64_t at;
	int readback;
	unsigned fill;
	char *hex;
	/* run time */
	void *map;
	size_t maplen;
	uint64_t addr;
};

struct fdspec {
	char name[NAME_MAX_LEN];
	enum fdkind kind;
	char *hex;
	int fd, fd2; /* pipe: read end, write end */
};

/* One parsed case. The probe forks for isolated cases, and after a fork every page the
 * probe writes costs a page fault; so the fields written for every case come first and
 * are the only ones reset (up to `regs`); the arrays behind them are valid only as far as
 * their masks and counts say. */
struct pcase {
	enum entry entry;
	int code64;
	uint64_t nr, rflags;
	int isolate;
	unsigned timeout_ms;
	uint32_t regs_set;  /* bit i: regs[i] given */
	uint32_t sret_set;  /* bit i: sret[i] given */
	int ndisp;          /* number of disp[] entries set */
	int nmem;
	int nfd;
	uint64_t blocked; /* bit n-1 for signal n (1..64) */
	uint64_t sa_restart; /* bit n-1: signal n's disposition has SA_RESTART (Case.signals.restart) */
	int has_vsys;
	uint64_t vsys;
	int has_nextip;
	uint64_t nextip;
	int hwbp; /* RT-04: 1 = an instruction breakpoint on next_ip (probes/hwbp.c) */
	int observe; /* OBS_AUXV | OBS_MAPS: report the auxv / special mappings (probes/maps.c) */
	struct sc_setup *sc; /* seccomp filters to install right before the entry */
	struct pt_script *pt; /* ptrace tracer script (probes/ptrace.c) */
	struct setup_req *setup; /* set-up calls before the entry (probes/setup.c) */
	struct setup_req *after; /* calls right after the entry returned (probes/setup.c) */
	struct before_req *before; /* instructions right before the entry (probes/before.c) */
	struct th_setup *th; /* Case.thread: the call runs in a second thread (probes/thread.c) */
	struct post_req post; /* after-call steps (probes/post.h) */
	struct operand peek_op;
	char symbol[128];
	char bad[256]; /* protocol error in this case, if any */
	char id[512];
	/* ---- not reset per case */
	struct operand regs[16];
	enum disp disp[NSIG_MAX]; /* reset only when ndisp was non-zero */
	struct operand sret[SR_COUNT];
	struct region mem[MAX_MEM];
	struct fdspec fds[MAX_FDS];
};

/* ------------------------------------------------------------------ output */

struct jbuf {
	char *p;
	size_t len, cap;
};

CHILD_HOT static int g_child_shm;

static void jb_need(struct jbuf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	if (g_child_shm)
		_exit(73); /* a forked child's report outgrew the shared buffer: seen as an exit */
	size_t cap = b->cap ? b->cap : 8192;
	while (b->len + n + 1 > cap)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		/* Nothing sensible is left to do: the harness sees an early exit. */
		_exit(70);
	}
	b->p = p;
	b->cap = cap;
}

static void jb_raw(struct jbuf *b, const char *s, size_t n)
{
	jb_need(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Always inlined, so a literal's length is folded at compile time: a strlen call in a forked
 * child is one more stretch of glibc text to fault in (see jb_str and kcall). */
static inline __attribute__((always_inline)) void jb_s(struct jbuf *b, const char *s)
{
	jb_raw(b, s, __builtin_strlen(s));
}

static void jb_str(struct jbuf *b, const char *s)
{
	static const char hexd[] = "0123456789abcdef";
	/* Counted here, not with strlen: keys are a few bytes, and in a forked child glibc's
	 * strlen is one more stretch of text to fault in (see kcall). The empty asm keeps gcc
	 * from turning the loop back into a strlen call (-ftree-loop-distribute-patterns). */
	size_t n = 0;
	while (s[n]) {
		n++;
		__asm__("" : "+r"(n));
	}
	jb_need(b, n * 6 + 2);
	char *o = b->p + b->len;
	*o++ = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			*o++ = '\\';
			*o++ = (char)*c;
		} else if (*c < 0x20 || *c == 0x7f) {
			/* Control bytes as \u00XX; bytes >= 0x80 pass through, so UTF-8 ids sent
			 * percent-encoded by the harness come back as the same characters. */
			*o++ = '\\', *o++ = 'u', *o++ = '0', *o++ = '0';
			*o++ = hexd[*c >> 4];
			*o++ = hexd[*c & 15];
		} else {
			*o++ = (char)*c;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

static void jb_hexv(struct jbuf *b, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	jb_need(b, (size_t)n + 4);
	char *o = b->p + b->len;
	*o++ = '"', *o++ = '0', *o++ = 'x';
	while (n)
		*o++ = tmp[--n];
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

static void jb_int(struct jbuf *b, long long v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%lld", v);
	jb_raw(b, tmp, (size_t)n);
}

/* "key":"0x..." with a leading comma when not first. */
static void jb_kv_hex(struct jbuf *b, int *first, const char *k, uint64_t v)
{
	if (!*first)
		jb_raw(b, ",", 1);
	*first = 0;
	jb_str(b, k);
	jb_raw(b, ":", 1);
	jb_hexv(b, v);
}

static void jb_key(struct jbuf *b, const char *k)
{
	jb_raw(b, ",", 1);
	jb_str(b, k);
	jb_raw(b, ":", 1);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ------------------------------------------------------------------ state */

CHILD_HOT static struct jbuf g_out;      /* the observation being built */
CHILD_HOT static int g_report_fd = 1;    /* stdout, or the report pipe in a forked child */
CHILD_HOT static int g_in_child;         /* running a case in a forked child */
CHILD_HOT static uint64_t g_pid, g_tid, g_ppid;
static uint64_t g_uid, g_gid;
static char g_exec_probe[4096];
static char g_tmpdir[1024];
#ifdef __x86_64__
static int g_have_fsgsbase;
#endif
/* AT_SYSINFO_EHDR and AT_SYSINFO, read once at start for every observation's "extra": in a
 * forked child getauxval is one more stretch of glibc's text to fault in, and for an absent
 * entry (AT_SYSINFO on x86_64) it writes errno, a copy-on-write fault on the TLS page. */
static uint64_t g_auxv_vdso, g_auxv_sysinfo, g_vdso_size;
static uint64_t g_fsbase, g_gsbase;
static long g_pagesize;

/* Signal bookkeeping for the case in flight (written by the handler). */
struct sigrec {
	int signo, code, err_no;
	uint64_t addr;
	int has_addr;
	int has_sys;
	int syscall_nr;
	unsigned arch;
	uint64_t gpr[16];
	uint64_t rip, rflags, seg[6];
	int trapno;
	uint64_t err;
	uint64_t hflags; /* RFLAGS the handler ran with (probes/traps.c, SS-02) */
};
CHILD_HOT static struct sysabi_jb g_jb; /* probes/jump.h */
CHILD_HOT static volatile sig_atomic_t g_in_case;
CHILD_HOT static volatile sig_atomic_t g_case_tf;
CHILD_HOT static volatile sig_atomic_t g_sigreturn_pending;
CHILD_HOT static volatile long g_traps;
CHILD_HOT static struct sigrec g_sig;
static struct sigrec g_delivered[MAX_DELIVERED];
CHILD_HOT static volatile int g_ndelivered;
CHILD_HOT static enum disp g_record[NSIG_MAX];
CHILD_HOT static uint64_t g_sret_val[SR_COUNT];
CHILD_HOT static int g_sret_set[SR_COUNT];

/* ------------------------------------------------------------------ fs/gs base */

static uint64_t read_fsbase(void)
{
#ifdef __x86_64__
	uint64_t v = 0;
	if (g_have_fsgsbase) {
		__asm__ volatile("rdfsbase %0" : "=r"(v));
		return v;
	}
	syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &v);
	return v;
#else
	return 0;
#endif
}

static uint64_t read_gsbase(void)
{
#ifdef __x86_64__
	uint64_t v = 0;
	if (g_have_fsgsbase) {
		__asm__ volatile("rdgsbase %0" : "=r"(v));
		return v;
	}
	syscall(SYS_arch_prctl, 0x1004 /* ARCH_GET_GS */, &v);
	return v;
#else
	return 0;
#endif
}

/* glibc finds its thread pointer (errno, stack guard) through the FS base: if a case
 * changed it, put it back before any libc code runs. Raw syscalls only here. */
static void restore_fsbase(uint64_t seen)
{
#ifdef __x86_64__
	if (seen != g_fsbase) {
		long r;
		__asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_arch_prctl), "D"(0x1002L /* ARCH_SET_FS */), "S"(g_fsbase) : "rcx", "r11", "memory");
		(void)r;
	}
#else
	(void)seen;
#endif
}

/* ------------------------------------------------------------------ signals */

static void uc_to_rec(const ucontext_t *uc, struct sigrec *r)
{
	const greg_t *g = uc->uc_mcontext.gregs;
#ifdef __x86_64__
	static const int idx[16] = { REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP, REG_RSP,
				     REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15 };
	for (int i = 0; i < 16; i++)
		r->gpr[i] = (uint64_t)g[idx[i]];
	r->rip = (uint64_t)g[REG_RIP];
	r->rflags = (uint64_t)g[REG_EFL];
	/* sigcontext packs cs, gs, fs and (UC_SIGCONTEXT_SS kernels) ss in one word. */
	uint64_t csgsfs = (uint64_t)g[REG_CSGSFS];
	r->seg[0] = csgsfs & 0xffff;
	r->seg[1] = (csgsfs >> 48) & 0xffff;
	r->seg[4] = (csgsfs >> 32) & 0xffff;
	r->seg[5] = (csgsfs >> 16) & 0xffff;
	r->seg[2] = r->seg[3] = (uint64_t)-1; /* not in the 64-bit sigcontext */
#else
	static const int idx[8] = { REG_EAX, REG_EBX, REG_ECX, REG_EDX, REG_ESI, REG_EDI, REG_EBP, REG_ESP };
	for (int i = 0; i < 8; i++)
		r->gpr[i] = (uint32_t)g[idx[i]];
	r->rip = (uint32_t)g[REG_EIP];
	r->rflags = (uint32_t)g[REG_EFL];
	r->seg[0] = (uint32_t)g[REG_CS] & 0xffff;
	r->seg[1] = (uint32_t)g[REG_SS] & 0xffff;
	r->seg[2] = (uint32_t)g[REG_DS] & 0xffff;
	r->seg[3] = (uint32_t)g[REG_ES] & 0xffff;
	r->seg[4] = (uint32_t)g[REG_FS] & 0xffff;
	r->seg[5] = (uint32_t)g[REG_GS] & 0xffff;
#endif
	r->trapno = (int)g[REG_TRAPNO];
	r->err = (uint64_t)(unsigned long)g[REG_ERR];
}

static void si_to_rec(int sig, const siginfo_t *si, struct sigrec *r)
{
	r->signo = sig;
	r->code = si->si_code;
	r->err_no = si->si_errno;
	r->has_addr = 0;
	r->has_sys = 0;
	if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP) {
		r->addr = (uint64_t)(uintptr_t)si->si_addr;
		r->has_addr = 1;
	} else if (sig == SIGSYS) {
		r->addr = (uint64_t)(uintptr_t)si->si_call_addr;
		r->has_addr = 1;
		r->has_sys = 1;
		r->syscall_nr = si->si_syscall;
		r->arch = si->si_arch;
	}
}

/* Overwrite the saved user context with the case's `sigreturn` registers: returning from
 * the handler makes the kernel load them through rt_sigreturn (RT-01). */
static void apply_sigreturn(ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
#ifdef __x86_64__
	static const int idx[16] = { REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP, REG_RSP,
				     REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15 };
	for (int i = 0; i < 16; i++)
		if (g_sret_set[i])
			g[idx[i]] = (greg_t)g_sret_val[i];
	if (g_sret_set[SR_RIP])
		g[REG_RIP] = (greg_t)g_sret_val[SR_RIP];
	if (g_sret_set[SR_RFLAGS])
		g[REG_EFL] = (greg_t)g_sret_val[SR_RFLAGS];
	uint64_t v = (uint64_t)g[REG_CSGSFS];
	if (g_sret_set[SR_SEG0 + 0])
		v = (v & ~0xffffULL) | (g_sret_val[SR_SEG0 + 0] & 0xffff);
	if (g_sret_set[SR_SEG0 + 5])
		v = (v & ~(0xffffULL << 16)) | ((g_sret_val[SR_SEG0 + 5] & 0xffff) << 16);
	if (g_sret_set[SR_SEG0 + 4])
		v = (v & ~(0xffffULL << 32)) | ((g_sret_val[SR_SEG0 + 4] & 0xffff) << 32);
	if (g_sret_set[SR_SEG0 + 1])
		v = (v & ~(0xffffULL << 48)) | ((g_sret_val[SR_SEG0 + 1] & 0xffff) << 48);
	g[REG_CSGSFS] = (greg_t)v;
#else
	static const int idx[8] = { REG_EAX, REG_EBX, REG_ECX, REG_EDX, REG_ESI, REG_EDI, REG_EBP, REG_ESP };
	static const int segidx[6] = { REG_CS, REG_SS, REG_DS, REG_ES, REG_FS, REG_GS };
	for (int i = 0; i < 8; i++)
		if (g_sret_set[i])
			g[idx[i]] = (greg_t)g_sret_val[i];
	if (g_sret_set[SR_RIP])
		g[REG_EIP] = (greg_t)g_sret_val[SR_RIP];
	if (g_sret_set[SR_RFLAGS])
		g[REG_EFL] = (greg_t)g_sret_val[SR_RFLAGS];
	for (int i = 0; i < 6; i++)
		if (g_sret_set[SR_SEG0 + i])
			g[segidx[i]] = (greg_t)g_sret_val[SR_SEG0 + i];
#endif
}

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	/* Read before anything else can take a signal: sysabi_sig_entry's PUSHF (probes/traps.c). */
	uint64_t hflags = sysabi_handler_flags;
	if (!g_in_case) {
		/* A fault in the probe itself: let it kill us so the harness reports it. */
		signal(sig, SIG_DFL);
		return;
	}
	if (sig == SIGTRAP && g_sigreturn_pending) {
		g_sigreturn_pending = 0;
		apply_sigreturn(uc);
		return;
	}
	/* TF: the CPU raises #DB after each instruction (si_code TRAP_TRACE, from DR6.BS;
	 * arch/x86/kernel/traps.c). Count and resume, the flag stays set in the frame. */
	if (sig == SIGTRAP && g_case_tf && si->si_code != SI_KERNEL && si->si_code != TRAP_PERF && g_traps < TRAP_LIMIT) {
#ifdef __x86_64__
		sysabi_trap_log(g_traps, (uint64_t)uc->uc_mcontext.gregs[REG_RIP], hflags);
#else
		sysabi_trap_log(g_traps, (uint32_t)uc->uc_mcontext.gregs[REG_EIP], hflags);
#endif
		g_traps++;
		return;
	}
	if (g_record[sig] == D_RECORD && (si->si_code <= 0 || (sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE && sig != SIGTRAP))) {
		/* Sent by kill/tgkill/the kernel for an event: record delivery and go on. */
		int n = g_ndelivered;
		if (n < MAX_DELIVERED) {
			si_to_rec(sig, si, &g_delivered[n]);
			uc_to_rec(uc, &g_delivered[n]);
			g_delivered[n].hflags = hflags;
			g_ndelivered = n + 1;
		}
		return;
	}
	si_to_rec(sig, si, &g_sig);
	uc_to_rec(uc, &g_sig);
	g_sig.hflags = hflags;
	g_in_case = 0;
	sysabi_before_fault(); /* a WRFSBASE of the case: the probe's libc code needs its own FS back */
	sysabi_longjmp(&g_jb, 1);
}

/* The probe's signal mask between cases (SIGCHLD blocked for wait_child()). */
static sigset_t g_base_mask;

/* extra: more sa_flags, e.g. SA_RESTART for a case's recorded signal. */
static void install_handler(int sig, int extra)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	/* Through the PUSHF entry (probes/traps.c): the handler's own flags are recorded. */
	sysabi_sig_next = (uint64_t)(uintptr_t)on_signal;
	sa.sa_sigaction = sysabi_sig_entry;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | extra;
	sigfillset(&sa.sa_mask);
	sigaction(sig, &sa, 0);
}

static const int FAULT_SIGNALS[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };

static void setup_signals(void)
{
	static char altstack[64 * 1024] __attribute__((aligned(16)));
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
	sigaltstack(&ss, 0);
	for (size_t i = 0; i < sizeof FAULT_SIGNALS / sizeof FAULT_SIGNALS[0]; i++)
		install_handler(FAULT_SIGNALS[i], 0);
	signal(SIGPIPE, SIG_IGN);
	/* SIGCHLD stays pending for wait_child(); forked cases start with it unblocked. */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, 0);
	sigprocmask(SIG_BLOCK, 0, &g_base_mask);
}

/* ------------------------------------------------------------------ parsing */

static int lookup(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* Percent-decoding of ids and names ("%20" is a space); false if malformed or too long. */
static int pdecode(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	if (strcmp(s, "-") == 0) {
		out[0] = 0;
		return 1;
	}
	for (; *s; s++) {
		int c = (unsigned char)*s;
		if (c == '%') {
			int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);
			if (l < 0)
				return 0;
			c = h * 16 + l;
			s += 2;
		}
		if (n + 1 >= cap)
			return 0;
		out[n++] = (char)c;
	}
	out[n] = 0;
	return 1;
}

static int parse_u64(const char *s, uint64_t *v)
{
	if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
		return 0;
	uint64_t x = 0;
	for (s += 2; *s; s++) {
		int h = hexval(*s);
		if (h < 0 || (x >> 60))
			return 0;
		x = x * 16 + (uint64_t)h;
	}
	*v = x;
	return 1;
}

static int parse_uint(const char *s, unsigned long *v)
{
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	unsigned long x = strtoul(s, &end, 10);
	if (*end || errno)
		return 0;
	*v = x;
	return 1;
}

static int parse_hexdata(const char *s, char **out)
{
	if (strcmp(s, "-") == 0) {
		*out = 0;
		return 1;
	}
	size_t n = strlen(s);
	if (n % 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (hexval(s[i]) < 0)
			return 0;
	*out = strdup(s);
	return *out != 0;
}

static int reg_index(const char *s)
{
	for (int i = 0; i < 16; i++)
		if (strcmp(GPR_NAMES[i], s) == 0)
			return i;
	return -1;
}

static int sret_index(const char *s)
{
	int i = reg_index(s);
	if (i >= 0)
		return i;
	if (strcmp(s, "rip") == 0)
		return SR_RIP;
	if (strcmp(s, "rflags") == 0)
		return SR_RFLAGS;
	for (int k = 0; k < 6; k++)
		if (strcmp(SEG_NAMES[k], s) == 0)
			return SR_SEG0 + k;
	return -1;
}

/* Operand tokens: <ref> <name|-> <lit> <add> <or> */
static int parse_operand(char **t, int nt, struct operand *o)
{
	if (nt != 5)
		return 0;
	int r = lookup(REF_NAMES, t[0]);
	if (r < 0 || !pdecode(t[1], o->name, sizeof o->name))
		return 0;
	if (!parse_u64(t[2], &o->lit) || !parse_u64(t[3], &o->add) || !parse_u64(t[4], &o->or))
		return 0;
	o->ref = (enum ref)r;
	return 1;
}

static void case_free(struct pcase *c)
{
	for (int i = 0; i < c->nmem; i++)
		free(c->mem[i].hex);
	for (int i = 0; i < c->nfd; i++)
		free(c->fds[i].hex);
	if (c->sc && sc_free)
		sc_free(c->sc);
	c->sc = 0;
	pt_free(c->pt);
	c->pt = 0;
	th_free(c->th);
	c->th = 0;
	sysabi_setup_free(c->setup);
	c->setup = 0;
	sysabi_setup_free(c->after);
	c->after = 0;
	sysabi_before_free(c->before);
	c->before = 0;
}

static void case_bad(struct pcase *c, const char *what, const char *line)
{
	if (!c->bad[0])
		snprintf(c->bad, sizeof c->bad, "probe could not parse the case: %s in line \"%.120s\"", what, line);
}

/* Split a line in place at runs of spaces into at most max words; returns how many.
 * strtok would do the same but keeps its position in a static variable: a page of .bss
 * the probe then writes for every line, which after each fork is a copy-on-write fault
 * in the probe (mm/memory.c: do_wp_page) for nothing. */
static int split_words(char *s, char **t, int max)
{
	int n = 0;
	for (;;) {
		while (*s == ' ')
			s++;
		if (!*s || n == max)
			return n;
		t[n++] = s;
		while (*s && *s != ' ')
			s++;
		if (*s)
			*s++ = 0;
	}
}

/* The words of a split line joined again, for an error message (only built on an error:
 * copying every line up front cost more than the parsing). */
static const char *join_words(char *buf, size_t cap, char *const *t, int nt)
{
	size_t n = 0;
	buf[0] = 0;
	for (int i = 0; i < nt && n + 1 < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? " " : "", t[i]);
	return buf;
}

/* probes/setup.c keeps the operands of set-up calls without looking inside them. */
_Static_assert(sizeof(struct operand) <= SETUP_OPERAND_BYTES, "SETUP_OPERAND_BYTES too small for struct operand");
static int setup_parse_op(char **t, int nt, void *op)
{
	return parse_operand(t, nt, (struct operand *)op);
}

/* One protocol line inside a case (after `case`). Returns 1 at `end`. */
static int parse_case_line(struct pcase *c, char *line)
{
	char copybuf[256];
	char *t[16];
	int nt = split_words(line, t, 16);
#define LINE_TEXT join_words(copybuf, sizeof copybuf, t, nt)
	if (nt == 0)
		return 0;
	const char *k = t[0];
	if (strcmp(k, "end") == 0)
		return 1;
	if (strcmp(k, "entry") == 0 && nt == 2) {
		int e = lookup(ENTRY_NAMES, t[1]);
		if (e < 0)
			case_bad(c, "unknown entry", LINE_TEXT);
		else
			c->entry = (enum entry)e;
	} else if (strcmp(k, "code") == 0 && nt == 2) {
		if (strcmp(t[1], "64") == 0)
			c->code64 = 1;
		else if (strcmp(t[1], "compat") == 0)
			c->code64 = 0;
		else
			case_bad(c, "code must be 64 or compat", LINE_TEXT);
	} else if (strcmp(k, "nr") == 0 && nt == 2) {
		if (!parse_u64(t[1], &c->nr))
			case_bad(c, "bad number", LINE_TEXT);
	} else if (strcmp(k, "rflags") == 0 && nt == 2) {
		if (!parse_u64(t[1], &c->rflags))
			case_bad(c, "bad rflags", LINE_TEXT);
	} else if (strcmp(k, "isolate") == 0 && nt == 2) {
		c->isolate = strcmp(t[1], "1") == 0;
	} else if (strcmp(k, "timeout") == 0 && nt == 2) {
		unsigned long ms;
		if (!parse_uint(t[1], &ms) || ms == 0 || ms > 3600000)
			case_bad(c, "timeout must be 1..3600000 ms", LINE_TEXT);
		else
			c->timeout_ms = (unsigned)ms;
	} else if (strcmp(k, "reg") == 0 && nt == 7) {
		int i = reg_index(t[1]);
		if (i < 0 || !parse_operand(t + 2, nt - 2, &c->regs[i]))
			case_bad(c, "bad register operand", LINE_TEXT);
		else
			c->regs_set |= 1u << i;
	} else if (strcmp(k, "sret") == 0 && nt == 7) {
		int i = sret_index(t[1]);
		if (i < 0 || !parse_operand(t + 2, nt - 2, &c->sret[i]))
			case_bad(c, "bad sigreturn register", LINE_TEXT);
		else
			c->sret_set |= 1u << i;
	} else if (strcmp(k, "mem") == 0 && nt == 9) {
		if (c->nmem >= MAX_MEM) {
			case_bad(c, "too many memory regions", LINE_TEXT);
			return 0;
		}
		struct region *m = &c->mem[c->nmem];
		memset(m, 0, sizeof *m);
		unsigned long size, fill;
		int prot = lookup(PROT_NAMES, t[3]), place = lookup(PLACE_NAMES, t[4]);
		if (!pdecode(t[1], m->name, sizeof m->name) || !parse_uint(t[2], &size) || size == 0 || size > (64UL << 20) ||
		    prot < 0 || place < 0 || !(strcmp(t[6], "0") == 0 || strcmp(t[6], "1") == 0) ||
		    !parse_uint(t[7], &fill) || fill > 255 || !parse_hexdata(t[8], &m->hex)) {
			case_bad(c, "bad memory region", LINE_TEXT);
			return 0;
		}
		if (strcmp(t[5], "-") != 0) {
			if (!parse_u64(t[5], &m->at)) {
				case_bad(c, "bad region address", LINE_TEXT);
				return 0;
			}
			m->has_at = 1;
		}
		m->size = size;
		m->prot = (enum prot)prot;
		m->place = (enum place)place;
		m->readback = t[6][0] == '1';
		m->fill = (unsigned)fill;
		c->nmem++;
	} else if (strcmp(k, "fd") == 0 && nt == 4) {
		if (c->nfd >= MAX_FDS) {
			case_bad(c, "too many fds", LINE_TEXT);
			return 0;
		}
		struct fdspec *f = &c->fds[c->nfd];
		memset(f, 0, sizeof *f);
		int kind = lookup(FD_NAMES, t[2]);
		if (!pdecode(t[1], f->name, sizeof f->name) || kind < 0 || !parse_hexdata(t[3], &f->hex)) {
			case_bad(c, "bad fd", LINE_TEXT);
			return 0;
		}
		f->kind = (enum fdkind)kind;
		f->fd = f->fd2 = -1;
		c->nfd++;
	} else if (strcmp(k, "sig") == 0 && (nt == 3 || nt == 4)) {
		/* `sig N D [restart]`: restart = SA_RESTART, only for a handler or SIG_IGN. */
		unsigned long s;
		int d = lookup(DISP_NAMES, t[2]);
		int restart = nt == 4 && strcmp(t[3], "restart") == 0;
		if (!parse_uint(t[1], &s) || s < 1 || s >= NSIG_MAX || d <= 0 || (nt == 4 && (!restart || d == D_DEFAULT)))
			case_bad(c, "bad signal disposition", LINE_TEXT);
		else {
			c->disp[s] = (enum disp)d, c->ndisp++;
			if (restart)
				c->sa_restart |= 1ull << (s - 1);
		}
	} else if (strcmp(k, "block") == 0 && nt == 2) {
		unsigned long s;
		if (!parse_uint(t[1], &s) || s < 1 || s > 64)
			case_bad(c, "bad blocked signal", LINE_TEXT);
		else
			c->blocked |= 1ULL << (s - 1);
	} else if (strcmp(k, "symbol") == 0 && nt == 2) {
		if (!pdecode(t[1], c->symbol, sizeof c->symbol))
			case_bad(c, "bad symbol", LINE_TEXT);
	} else if (strcmp(k, "vsyscall") == 0 && nt == 2) {
		if (!parse_u64(t[1], &c->vsys))
			case_bad(c, "bad vsyscall address", LINE_TEXT);
		c->has_vsys = 1;
	} else if (strcmp(k, "segs") == 0 && nt == 3) {
		if (sysabi_post_parse_segs(&c->post, t[1], t[2]) < 0)
			case_bad(c, "bad segs line", LINE_TEXT);
	} else if (strcmp(k, "peek") == 0 && nt == 7) {
		c->post.peek_seg = strcmp(t[1], "-") == 0 ? -1 : sysabi_post_seg_index(t[1]);
		if ((c->post.peek_seg < 0 && strcmp(t[1], "-") != 0) || !parse_operand(t + 2, nt - 2, &c->peek_op))
			case_bad(c, "bad peek line", LINE_TEXT);
		c->post.has_peek = c->post.active = 1;
	} else if (strcmp(k, "cstack") == 0 && nt == 2) { /* RG-06, probes/contend.c */
		uint64_t v;
		if (!parse_u64(t[1], &v) || v > 0xffffffffu)
			case_bad(c, "bad cstack value", LINE_TEXT);
		c->post.cstack = (uint32_t)v;
		c->post.has_cstack = c->post.active = 1;
	} else if (strcmp(k, "contend") == 0 && nt == 2) {
		char *e;
		long r = strtol(t[1], &e, 10);
		if (*e || r < 1 || r > 100000)
			case_bad(c, "bad contend rounds", LINE_TEXT);
		c->post.contend_rounds = (int)r;
	} else if (strcmp(k, "hwbp") == 0 && nt == 2) { /* RT-04, probes/hwbp.c */
		if (strcmp(t[1], "next_ip") != 0)
			case_bad(c, "hwbp: the breakpoint can only be at next_ip", t[1]);
		c->hwbp = 1;
	} else if (strcmp(k, "observe") == 0 && nt == 2) { /* VD-01/VD-04, probes/maps.c */
		for (char *w = t[1], *sv = NULL; (w = strtok_r(w, ",", &sv)); w = NULL) {
			if (strcmp(w, "auxv") == 0)
				c->observe |= OBS_AUXV;
			else if (strcmp(w, "maps") == 0)
				c->observe |= OBS_MAPS;
			else
				case_bad(c, "observe: expected auxv and/or maps", LINE_TEXT);
		}
	} else if (strcmp(k, "nextip") == 0 && nt == 2) {
		if (!parse_u64(t[1], &c->nextip))
			case_bad(c, "bad nextip", LINE_TEXT);
		c->has_nextip = 1;
	} else {
		const char *r = sysabi_setup_parse(&c->setup, t, nt, setup_parse_op);
		if (!r)
			r = sysabi_after_parse(&c->after, t, nt, setup_parse_op);
		if (!r && sc_parse_line)
			r = sc_parse_line(&c->sc, t, nt);
		if (!r)
			r = th_parse_line(&c->th, t, nt);
		if (!r)
			r = pt_parse_line(&c->pt, t, nt);
		if (!r)
			r = sysabi_before_parse(&c->before, t, nt);
		if (!r)
			case_bad(c, "unknown key or wrong field count", LINE_TEXT);
		else if (*r)
			case_bad(c, r, LINE_TEXT);
	}
	return 0;
}
#undef LINE_TEXT

/* ------------------------------------------------------------------ case set-up */

CHILD_HOT static uint64_t g_unmapped; /* computed lazily per case */

static uint64_t find_unmapped(void)
{
	if (g_unmapped)
		return g_unmapped;
	/* Reserve three pages and give them back: the middle one has no neighbour mapped. */
	size_t len = (size_t)g_pagesize * 3;
	void *p = mmap(0, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS
#ifdef MAP_32BIT
		       | (CODE64 ? MAP_32BIT : 0)
#endif
		       , -1, 0);
	if (p == MAP_FAILED)
		return 0;
	munmap(p, len);
	g_unmapped = (uint64_t)(uintptr_t)p + (uint64_t)g_pagesize;
	return g_unmapped;
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t cap)
{
	for (size_t i = 0; hex && hex[2 * i] && i < cap; i++)
		out[i] = (uint8_t)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
}

static int map_region(struct region *m, char *why, size_t whylen)
{
	size_t ps = (size_t)g_pagesize;
	size_t span = (m->size + ps - 1) / ps * ps;
	int prot = PROT_READ | PROT_WRITE;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	void *hint = 0;
	if (m->has_at) {
		uint64_t pagebase = m->at & ~(uint64_t)(ps - 1);
		span = (size_t)((m->at + m->size - pagebase + ps - 1) / ps * ps);
		if (!CODE64 && m->at + m->size > 0x100000000ULL) {
			snprintf(why, whylen, "region %s at 0x%llx is beyond a 32-bit address space", m->name, (unsigned long long)m->at);
			return -1;
		}
		hint = (void *)(uintptr_t)pagebase;
		flags |= MAP_FIXED_NOREPLACE;
	} else if (m->place == PL_EOP) {
		span += ps; /* a page more, unmapped again below */
	}
#ifdef MAP_32BIT
	if (m->place == PL_LOW32 && !m->has_at && CODE64)
		flags |= MAP_32BIT;
#endif
	void *p = mmap(hint, span, prot, flags, -1, 0);
	if (p == MAP_FAILED || (m->has_at && p != hint)) {
		int e = errno;
		if (p != MAP_FAILED)
			munmap(p, span);
		snprintf(why, whylen, "cannot map region %s%s: %s", m->name, m->has_at ? " at its fixed address" : "", p == MAP_FAILED ? strerror(e) : "kernel placed it elsewhere");
		return -1;
	}
	m->map = p;
	m->maplen = span;
	if (m->has_at) {
		m->addr = m->at;
	} else if (m->place == PL_EOP) {
		munmap((char *)p + span - ps, ps);
		m->maplen = span - ps;
		m->addr = (uint64_t)(uintptr_t)p + m->maplen - m->size;
	} else {
		m->addr = (uint64_t)(uintptr_t)p;
	}
	uint8_t *b = (uint8_t *)(uintptr_t)m->addr;
	memset(b, (int)m->fill, m->size);
	hex_to_bytes(m->hex, b, m->size);
	if (m->prot != P_RW)
		mprotect(m->map, m->maplen, m->prot == P_R ? PROT_READ : PROT_NONE);
	return 0;
}

static int open_fd(struct fdspec *f, char *why, size_t whylen)
{
	uint8_t buf[4096];
	size_t n = f->hex ? strlen(f->hex) / 2 : 0;
	switch (f->kind) {
	case FK_NULL:
		f->fd = open("/dev/null", O_RDWR);
		break;
	case FK_FILE:
		/* An unnamed private file: O_TMPFILE where the filesystem has it. */
		f->fd = open(g_tmpdir, O_TMPFILE | O_RDWR, 0600);
		if (f->fd < 0) {
			char path[1100];
			snprintf(path, sizeof path, "%s/sysabi-fd-XXXXXX", g_tmpdir);
			f->fd = mkstemp(path);
			if (f->fd >= 0)
				unlink(path);
		}
		for (size_t off = 0; f->fd >= 0 && off < n;) {
			size_t chunk = n - off < sizeof buf ? n - off : sizeof buf;
			hex_to_bytes(f->hex + 2 * off, buf, chunk);
			if (write_all(f->fd, (char *)buf, chunk) < 0)
				break;
			off += chunk;
		}
		if (f->fd >= 0)
			lseek(f->fd, 0, SEEK_SET);
		break;
	case FK_PIPE: {
		int p[2];
		if (pipe(p) == 0) {
			f->fd = p[0];
			f->fd2 = p[1];
			if (n > 65536)
				n = 65536; /* a pipe buffer's worth; more would block */
			for (size_t off = 0; off < n;) {
				size_t chunk = n - off < sizeof buf ? n - off : sizeof buf;
				hex_to_bytes(f->hex + 2 * off, buf, chunk);
				if (write_all(f->fd2, (char *)buf, chunk) < 0)
					break;
				off += chunk;
			}
		}
		break;
	}
	case FK_CLOSED:
		/* The lowest free number, closed again: nothing of ours will be opened there
		 * before the call, because it is assigned last. */
		f->fd = dup(0);
		if (f->fd < 0)
			f->fd = open("/dev/null", O_RDONLY);
		if (f->fd >= 0)
			close(f->fd);
		return 0;
	}
	if (f->fd < 0) {
		snprintf(why, whylen, "cannot open fd %s: %s", f->name, strerror(errno));
		return -1;
	}
	return 0;
}

static int g_nullfd = -1;

static int fd_by_name(const struct pcase *c, const char *name, uint64_t *v)
{
	if (strcmp(name, "null") == 0) {
		for (int i = 0; i < c->nfd; i++)
			if (strcmp(c->fds[i].name, "null") == 0) {
				*v = (uint64_t)c->fds[i].fd;
				return 1;
			}
		*v = (uint64_t)g_nullfd;
		return g_nullfd >= 0;
	}
	for (int i = 0; i < c->nfd; i++) {
		const struct fdspec *f = &c->fds[i];
		size_t n = strlen(f->name);
		if (strcmp(f->name, name) == 0) {
			*v = (uint64_t)f->fd;
			return 1;
		}
		if (f->kind == FK_PIPE && strncmp(f->name, name, n) == 0 && name[n] == '.') {
			if (strcmp(name + n, ".r") == 0) {
				*v = (uint64_t)f->fd;
				return 1;
			}
			if (strcmp(name + n, ".w") == 0) {
				*v = (uint64_t)f->fd2;
				return 1;
			}
		}
	}
	return 0;
}

static int resolve(const struct pcase *c, const struct operand *o, uint64_t *out, char *why, size_t whylen)
{
	uint64_t base = o->lit;
	switch (o->ref) {
	case R_LIT:
		break;
	case R_BUF: {
		int found = 0;
		for (int i = 0; i < c->nmem; i++)
			if (strcmp(c->mem[i].name, o->name) == 0) {
				base = c->mem[i].addr;
				found = 1;
			}
		if (!found) {
			snprintf(why, whylen, "operand names memory region \"%s\", which the case does not declare", o->name);
			return -1;
		}
		break;
	}
	case R_UNMAPPED:
		base = find_unmapped();
		break;
	case R_FD:
		if (!fd_by_name(c, o->name, &base)) {
			snprintf(why, whylen, "operand names fd \"%s\", which the case does not declare", o->name);
			return -1;
		}
		break;
	case R_PID: base = g_pid; break;
	case R_TID: base = g_tid; break;
	case R_PPID: base = g_ppid; break;
	case R_UID: base = g_uid; break;
	case R_GID: base = g_gid; break;
	case R_RFLAGS: base = c->rflags; break;
	}
	uint64_t v = (base + o->add) | o->or;
	*out = c->code64 ? v : (uint32_t)v;
	return 0;
}

/* ------------------------------------------------------------------ placed stubs */

struct placed {
	void *pages[3];
	size_t npages;
	uint64_t entry_ip, next_ip;
};

/* Bytes of an entry instruction, position independent (absolute indirect calls). */
static size_t entry_bytes(enum entry e, uint8_t *b)
{
	uint32_t call = (uint32_t)(uintptr_t)&sysabi_ctl.call;
	switch (e) {
	case E_SYSCALL: b[0] = 0x0f, b[1] = 0x05; return 2;
	case E_INT80: b[0] = 0xcd, b[1] = 0x80; return 2;
	case E_SYSENTER: b[0] = 0x0f, b[1] = 0x34; return 2;
	case E_SIGRETURN: b[0] = 0xcc; return 1;
	case E_NONE: b[0] = 0x90; return 1;
	default:
#ifdef __x86_64__
		b[0] = 0xff, b[1] = 0x14, b[2] = 0x25; /* call *disp32 (SIB, no base) */
		memcpy(b + 3, &call, 4);
		return 7;
#else
		b[0] = 0xff, b[1] = 0x15; /* call *abs32 */
		memcpy(b + 2, &call, 4);
		return 6;
#endif
	}
}

static size_t jump_back_bytes(uint8_t *b, int compat)
{
#ifdef __x86_64__
	if (compat) {
		/* ljmp *m16:32 (ff 2d abs32) through sysabi_far64, from 32-bit code */
		uint32_t fp = (uint32_t)(uintptr_t)&sysabi_far64;
		b[0] = 0xff, b[1] = 0x2d;
		memcpy(b + 2, &fp, 4);
		return 6;
	}
#else
	(void)compat;
#endif
	uint32_t slot = (uint32_t)(uintptr_t)&sysabi_ctl.resume;
#ifdef __x86_64__
	b[0] = 0xff, b[1] = 0x24, b[2] = 0x25; /* jmp *disp32 */
	memcpy(b + 3, &slot, 4);
	return 7;
#else
	b[0] = 0xff, b[1] = 0x25;
	memcpy(b + 2, &slot, 4);
	return 6;
#endif
}

static void unplace(struct placed *pl)
{
	for (size_t i = 0; i < pl->npages; i++)
		munmap(pl->pages[i], (size_t)g_pagesize);
	pl->npages = 0;
}

/* Map the page(s) so the entry instruction ends exactly at next_ip. The pages holding the
 * instruction must map; the continuation (a jump back) is written only where the kernel
 * lets us map it, so a next_ip at the edge of the address space faults there (RT-02). */
static int place_stub(enum entry e, int compat, uint64_t next_ip, struct placed *pl, char *why, size_t whylen)
{
	uint8_t insn[8], jmp[8];
	size_t ilen = entry_bytes(e, insn), jlen = jump_back_bytes(jmp, compat);
	uint64_t ps = (uint64_t)g_pagesize;
	uint64_t entry_ip = next_ip - ilen;
	memset(pl, 0, sizeof *pl);
	pl->entry_ip = entry_ip;
	pl->next_ip = next_ip;
	if ((!CODE64 || compat) && next_ip + jlen > 0x100000000ULL) {
		snprintf(why, whylen, "next_ip 0x%llx is beyond a 32-bit address space", (unsigned long long)next_ip);
		return -1;
	}
	if (next_ip < ilen) {
		snprintf(why, whylen, "next_ip 0x%llx leaves no room for the entry instruction", (unsigned long long)next_ip);
		return -1;
	}
	uint64_t first = entry_ip & ~(ps - 1);
	uint64_t last_insn = (next_ip - 1) & ~(ps - 1);
	uint64_t last_jmp = (next_ip + jlen - 1) & ~(ps - 1);
	int jmp_ok = 1;
	for (uint64_t pg = first; pg <= last_jmp && pl->npages < 3; pg += ps) {
		void *p = mmap((void *)(uintptr_t)pg, (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED || p != (void *)(uintptr_t)pg) {
			int err = errno;
			if (p != MAP_FAILED)
				munmap(p, (size_t)ps);
			if (pg <= last_insn) {
				unplace(pl);
				snprintf(why, whylen, "kernel refused a mapping at 0x%llx for the entry instruction: %s",
					 (unsigned long long)pg, p == MAP_FAILED ? strerror(err) : "placed elsewhere");
				return -1;
			}
			jmp_ok = 0;
			break;
		}
		pl->pages[pl->npages++] = p;
		if (pg + ps == 0)
			break; /* top of the address space */
	}
	memcpy((void *)(uintptr_t)entry_ip, insn, ilen);
	if (jmp_ok)
		memcpy((void *)(uintptr_t)next_ip, jmp, jlen);
	for (size_t i = 0; i < pl->npages; i++)
		mprotect(pl->pages[i], (size_t)ps, PROT_READ | PROT_EXEC);
	return 0;
}

/* ------------------------------------------------------------------ observation JSON */

static void emit_frame(struct jbuf *b, const struct sysabi_frame *f, int with_segs, int with_bases, uint64_t fsb, uint64_t gsb)
{
	int first = 1;
	jb_raw(b, "{", 1);
	for (int i = 0; i < NGPR; i++)
		jb_kv_hex(b, &first, GPR_NAMES[i], CODE64 ? f->gpr[i] : (uint32_t)f->gpr[i]);
	jb_kv_hex(b, &first, "rflags", CODE64 ? f->rflags : (uint32_t)f->rflags);
	jb_kv_hex(b, &first, "rip", f->rip);
	if (with_segs)
		for (int i = 0; i < 6; i++)
			jb_kv_hex(b, &first, SEG_NAMES[i], f->seg[i] & 0xffff);
	if (with_bases) {
		jb_kv_hex(b, &first, "fs_base", fsb);
		jb_kv_hex(b, &first, "gs_base", gsb);
	}
	jb_raw(b, "}", 1);
}

static void emit_sigrec(struct jbuf *b, const struct sigrec *r)
{
	jb_s(b, "{\"signo\":");
	jb_int(b, r->signo);
	jb_s(b, ",\"code\":");
	jb_int(b, r->code);
	jb_s(b, ",\"errno\":");
	jb_int(b, r->err_no);
	if (r->has_addr) {
		jb_s(b, ",\"addr\":");
		jb_hexv(b, CODE64 ? r->addr : (uint32_t)r->addr);
	}
	if (r->has_sys) {
		jb_s(b, ",\"syscall\":");
		jb_int(b, r->syscall_nr);
		jb_s(b, ",\"arch\":");
		jb_int(b, (long long)r->arch);
	}
	jb_s(b, ",\"trapno\":");
	jb_int(b, r->trapno);
	jb_s(b, ",\"err\":");
	jb_hexv(b, r->err);
	jb_s(b, ",\"hflags\":");
	jb_hexv(b, r->hflags);
	jb_s(b, ",\"regs\":{");
	int first = 1;
	for (int i = 0; i < NGPR; i++)
		jb_kv_hex(b, &first, GPR_NAMES[i], r->gpr[i]);
	jb_kv_hex(b, &first, "rip", r->rip);
	jb_kv_hex(b, &first, "rflags", r->rflags);
	for (int i = 0; i < 6; i++)
		if (r->seg[i] != (uint64_t)-1)
			jb_kv_hex(b, &first, SEG_NAMES[i], r->seg[i]);
	jb_s(b, "}}");
}

static void emit_head(struct jbuf *b, const char *id, const char *outcome)
{
	b->len = 0;
	jb_s(b, "{\"id\":");
	jb_str(b, id);
	jb_s(b, ",\"outcome\":");
	jb_str(b, outcome);
}

static void emit_ids(struct jbuf *b)
{
	int first = 1;
	jb_kv_hex(b, &first, "pid", g_pid);
	jb_kv_hex(b, &first, "tid", g_tid);
	jb_kv_hex(b, &first, "ppid", g_ppid);
	jb_kv_hex(b, &first, "uid", g_uid);
	jb_kv_hex(b, &first, "gid", g_gid);
}

/* A whole observation with no registers: unsupported/error/timeout/killed/exited. */
static void emit_simple(struct jbuf *b, const char *id, const char *outcome, const char *reason)
{
	emit_head(b, id, outcome);
	if (reason) {
		jb_key(b, "reason");
		jb_str(b, reason);
	}
	jb_s(b, ",\"before\":{},\"env\":{");
	emit_ids(b);
	jb_s(b, "}}\n");
}

/* A forked child reports through memory shared with the probe (no pipe, so the probe
 * sleeps once per case, until the child exits); `exec` children report through a pipe. */
#define SHM_REPORT_CAP ((size_t)16 << 20)
struct shm_report {
	uint64_t len;
	/* The seccomp installs' results, copied here by the child as soon as they are known:
	 * a case whose call exits or kills the process writes no observation of its own, and
	 * without them an exit under a refused strict mode would look like an exit under an
	 * installed one (SC-06, SC-07). */
	int sc_nres;
	long sc_ret[SC_MAX_FILTERS + 1];
	int sc_err[SC_MAX_FILTERS + 1];
	char data[];
};
static struct shm_report *g_shm;

/* Observations of forked cases, held back and written to the harness several at a time.
 * One write per case woke the harness once per case, and its per-wakeup work (event loop,
 * stream, line split) cost it about as much CPU as the probe spent on the case, on the same
 * two cores. Held back only as long as the probe is busy: everything is written before the
 * probe reads more input (next_line), before any other output (flush_obs), before a
 * tracer or pipe wait, when 32 KiB are waiting, and when a child takes more than 2 ms
 * (wait_child) — the harness times each answer from the previous one. The buffer, its
 * length included, is MADV_DONTFORK: the probe writes it after every fork without a
 * copy-on-write fault, and no forked child has it. Only the probe's own code paths use it
 * (flush_obs checks g_in_child; a CLONE_VM child sets that flag in memory it shares with
 * the probe, which is why the queue functions themselves do not look at it). */
struct outq {
	size_t len;
	char data[];
};
#define OUTQ_SIZE ((size_t)256 << 10)
/* The protocol stream: the probe's stdout. Not g_report_fd, which a CLONE_VM child changes
 * in memory it shares with the probe while the probe waits for it (wait_child flushes). */
#define OUTQ_FD 1
#define OUTQ_FLUSH_AT ((size_t)32 << 10)
static struct outq *g_outq; /* 0: every observation is written at once */

static int outq_pending(void)
{
	return g_outq && g_outq->len;
}

static void outq_flush(void)
{
	if (!outq_pending())
		return;
	size_t n = g_outq->len;
	g_outq->len = 0;
	if (write_all(OUTQ_FD, g_outq->data, n) < 0)
		_exit(71); /* the harness went away */
}

/* Queue bytes of the output stream (in order with everything written before). */
static void outq_add(const char *p, size_t n)
{
	if (!g_outq || n > OUTQ_SIZE - sizeof *g_outq - g_outq->len) {
		outq_flush();
		if (write_all(OUTQ_FD, p, n) < 0)
			_exit(71);
		return;
	}
	memcpy(g_outq->data + g_outq->len, p, n);
	g_outq->len += n;
	if (g_outq->len >= OUTQ_FLUSH_AT)
		outq_flush();
}

static void flush_obs(struct jbuf *b)
{
	if (g_child_shm) {
		/* The child built its line right in the shared buffer (see run_forked). */
		g_shm->len = b->len;
		return;
	}
	if (!g_in_child && outq_pending()) {
		/* After what is held back, in one write when it fits. */
		outq_add(b->p, b->len);
		outq_flush();
	} else if (write_all(g_report_fd, b->p, b->len) < 0) {
		_exit(71); /* the harness went away */
	}
	b->len = 0;
}

/* ------------------------------------------------------------------ running a case */

static const char *unsupported_reason(const struct pcase *c)
{
#ifdef __x86_64__
	if (!c->code64 && c->entry != E_SYSCALL && c->entry != E_INT80 && c->entry != E_SYSENTER && c->entry != E_NONE)
		return "code compat from a 64-bit probe supports the syscall, int80 and sysenter entries only, and none (a nop)";
#else
	if (c->code64)
		return "code 64 from the i386 probe (a far jump into a 64-bit code segment) is not implemented";
#endif
	if (c->th && (c->pt || c->post.active || c->post.contend_rounds || c->hwbp || c->before || c->entry == E_EXEC || c->entry == E_SIGRETURN || (c->rflags & 0x100)))
		return "a call in a second thread (thread) does not combine with ptrace, after-call steps, contention, breakpoints, before, exec, sigreturn or TF";
	if (c->entry == E_VDSO && !getauxval(AT_SYSINFO))
		return CODE64 ? "no __kernel_vsyscall: AT_SYSINFO is given to 32-bit processes only"
			      : "no __kernel_vsyscall: the auxiliary vector has no AT_SYSINFO (an emulator may not provide one)";
#ifndef __x86_64__
	if (c->entry == E_VSYSCALL)
		return "the vsyscall page exists only for 64-bit processes";
#endif
	if (c->entry == E_VSYSCALL && !c->has_vsys)
		return "vsyscall case without an address";
	if (c->post.active)
		return sysabi_post_unsupported(&c->post);
	return 0;
}

static int setup_resolve(const void *c, const void *op, uint64_t *out, char *why, size_t whylen)
{
	return resolve((const struct pcase *)c, (const struct operand *)op, out, why, whylen);
}

/* Run one case in this process (or in the forked child); writes the observation line. */
/* Whether the case's call can return 0 in a new process (fork, vfork, clone, clone3 by any
 * table's number, or a tracer that may rewrite the number): only then does sysabi_resume
 * ask for its pid to tell that process from the probe. Asking after every call that
 * returned 0 made a getpid the probe's first call after the case's, which seccomp strict
 * mode or a filter refusing getpid punished by killing a case that had passed. A superset
 * is harmless (the number 2 is also open on x86_64), so any table's numbers count, with the
 * x32 bit and the high half ignored. */
static int may_make_process(const struct pcase *c)
{
	if (c->pt)
		return 1;
	uint32_t n = (uint32_t)c->nr & ~0x40000000u;
	switch (n) {
	case SYSABI_NR_X86_64_clone:
	case SYSABI_NR_X86_64_fork:
	case SYSABI_NR_X86_64_vfork:
	case SYSABI_NR_X86_64_clone3: /* == SYSABI_NR_I386_clone3 */
	case SYSABI_NR_I386_fork:
	case SYSABI_NR_I386_clone:
	case SYSABI_NR_I386_vfork:
		return 1;
	default:
		return 0;
	}
}

/* Install the case's filters (probes/seccomp.c), leaving the results where the probe finds
 * them should this process die in its call (g_shm). -2: a SKIP reason in why. */
static int install_filters(struct pcase *c, char *why, size_t whylen)
{
	/* A refused install is recorded for the observation (SC-06), not a failure. */
	int scr = sc_install(c->sc, why, whylen);
	if (g_child_shm && g_shm) {
		g_shm->sc_nres = c->sc->nres;
		memcpy(g_shm->sc_ret, c->sc->ret, sizeof g_shm->sc_ret);
		memcpy(g_shm->sc_err, c->sc->err, sizeof g_shm->sc_err);
	}
	return scr;
}

/* Case.thread hooks (probes/thread.c): the main thread's `after` installs, and the call
 * itself, run in the second thread on its own stack, so its fault recovery jumps there. */
static char g_th_why[256];
static int g_th_scr;
static int th_main_install(void *arg)
{
	g_th_scr = install_filters(arg, g_th_why, sizeof g_th_why);
	return g_th_scr < 0 ? -1 : 0;
}
static int th_call(void *arg)
{
	(void)arg;
	if (sysabi_setjmp(&g_jb) == 0) {
		g_in_case = 1;
		sysabi_enter();
		g_in_case = 0;
		return 0;
	}
	return 1;
}

/* DS and ES as the probe started with them (0 for a 64-bit process, __USER_DS for i386). */
static uint16_t g_ds0, g_es0;

/* Every case starts with the probe's own DS and ES. The kernel never changes them behind a
 * 64-bit process's back, but an emulator may: qemu-user loads __USER_DS into both when it
 * delivers a signal to an x86_64 guest, and its rt_sigreturn (whose 64-bit frame has no DS/ES)
 * leaves them so; a later case would then start from what an earlier one's fault left. */
static void reset_data_segs(void)
{
	uint16_t ds, es;
	__asm__ volatile("mov %%ds, %0" : "=r"(ds));
	__asm__ volatile("mov %%es, %0" : "=r"(es));
	if (ds != g_ds0)
		__asm__ volatile("mov %0, %%ds" : : "r"((uint32_t)g_ds0));
	if (es != g_es0)
		__asm__ volatile("mov %0, %%es" : : "r"((uint32_t)g_es0));
}

static void run_inline(struct pcase *c)
{
	struct jbuf *b = &g_out;
	char why[512] = "";
	struct placed pl = { .npages = 0 };
	/* volatile: these live across the sysabi_setjmp below (as across setjmp, C11 7.13.2.1). */
	volatile int placed = 0;
	volatile int hwbp_fd = -1; /* RT-04 breakpoint, armed right before the call */
	volatile uint64_t entry_ip = 0, next_ip = 0;
	reset_data_segs();
	const char *un = unsupported_reason(c);
	if (un) {
		emit_simple(b, c->id, "unsupported", un);
		flush_obs(b);
		return;
	}

	int nmapped = 0, nopen = 0;
	for (; nmapped < c->nmem; nmapped++)
		if (map_region(&c->mem[nmapped], why, sizeof why) < 0)
			goto unsupported;
	for (; nopen < c->nfd; nopen++)
		if (open_fd(&c->fds[nopen], why, sizeof why) < 0)
			goto failed;
	g_unmapped = 0;

	memset(&sysabi_ctl, 0, sizeof sysabi_ctl);
	for (int i = 0; i < 16; i++) {
		if ((c->regs_set >> i & 1) && resolve(c, &c->regs[i], &sysabi_ctl.in.gpr[i], why, sizeof why) < 0)
			goto failed;
	}
	/* The number wins over any `regs` value for rax (docs/spec-language.md). */
	sysabi_ctl.in.gpr[0] = c->code64 ? c->nr : (uint32_t)c->nr;
	if (c->post.has_peek && resolve(c, &c->peek_op, &c->post.peek_addr, why, sizeof why) < 0)
		goto failed;
	sysabi_ctl.in.rflags = c->rflags;
	sysabi_ctl.flags = (c->regs_set >> 7 & 1) ? CTL_F_RSP : 0;
	if (may_make_process(c))
		sysabi_ctl.flags |= CTL_F_MAYFORK;
	sysabi_ctl.resume = (uint64_t)(uintptr_t)sysabi_resume;
	memset(g_sret_set, 0, sizeof g_sret_set);
	for (int i = 0; i < SR_COUNT; i++) {
		if (!(c->sret_set >> i & 1))
			continue;
		if (resolve(c, &c->sret[i], &g_sret_val[i], why, sizeof why) < 0)
			goto failed;
		g_sret_set[i] = 1;
	}

	int compat = CODE64 && !c->code64;
	switch (c->entry) {
#ifdef __x86_64__
	case E_SYSCALL:
		if (compat) {
			entry_ip = (uintptr_t)sysabi_stub32_syscall, next_ip = (uintptr_t)sysabi_stub32_syscall_end;
			break;
		}
		entry_ip = (uintptr_t)sysabi_stub_syscall; next_ip = (uintptr_t)sysabi_stub_syscall_end; break;
	case E_INT80:
		if (compat) {
			entry_ip = (uintptr_t)sysabi_stub32_int80, next_ip = (uintptr_t)sysabi_stub32_int80_end;
			break;
		}
		entry_ip = (uintptr_t)sysabi_stub_int80; next_ip = (uintptr_t)sysabi_stub_int80_end; break;
	case E_SYSENTER:
		if (compat) {
			entry_ip = (uintptr_t)sysabi_stub32_sysenter, next_ip = (uintptr_t)sysabi_stub32_sysenter_end;
			break;
		}
		entry_ip = (uintptr_t)sysabi_stub_sysenter; next_ip = (uintptr_t)sysabi_stub_sysenter_end; break;
	case E_NONE:
		if (compat) {
			entry_ip = (uintptr_t)sysabi_stub32_nop, next_ip = (uintptr_t)sysabi_stub32_nop_end;
			break;
		}
		entry_ip = (uintptr_t)sysabi_stub_nop; next_ip = (uintptr_t)sysabi_stub_nop_end; break;
#else
	case E_NONE: entry_ip = (uintptr_t)sysabi_stub_nop; next_ip = (uintptr_t)sysabi_stub_nop_end; break;
	case E_SYSCALL: entry_ip = (uintptr_t)sysabi_stub_syscall; next_ip = (uintptr_t)sysabi_stub_syscall_end; break;
	case E_INT80: entry_ip = (uintptr_t)sysabi_stub_int80; next_ip = (uintptr_t)sysabi_stub_int80_end; break;
	case E_SYSENTER: entry_ip = (uintptr_t)sysabi_stub_sysenter; next_ip = (uintptr_t)sysabi_stub_sysenter_end; break;
#endif
	case E_SIGRETURN: entry_ip = (uintptr_t)sysabi_stub_int3; next_ip = (uintptr_t)sysabi_stub_int3_end; break;
	default: entry_ip = (uintptr_t)sysabi_stub_call; next_ip = (uintptr_t)sysabi_stub_call_end; break;
	}
	if (c->entry == E_VDSO) {
		sysabi_ctl.call = getauxval(AT_SYSINFO);
	} else if (c->entry == E_VDSO_FN) {
		sysabi_ctl.call = sysabi_vdso_sym(c->symbol);
		if (!sysabi_ctl.call) {
			if (!sysabi_vdso_base())
				snprintf(why, sizeof why, "no vDSO in this process (AT_SYSINFO_EHDR absent), so no %s", c->symbol);
			else
				snprintf(why, sizeof why, "the vDSO has no function %s", c->symbol);
			goto unsupported;
		}
		if (!CODE64)
			sysabi_ctl.flags |= CTL_F_STACKARGS;
	} else if (c->entry == E_VSYSCALL) {
		sysabi_ctl.call = c->vsys;
	}
	if (c->has_nextip) {
		if (place_stub(c->entry, compat, c->nextip, &pl, why, sizeof why) < 0)
			goto unsupported;
		placed = 1;
		entry_ip = pl.entry_ip;
		next_ip = pl.next_ip;
	}
	sysabi_ctl.target = entry_ip;
#ifdef __x86_64__
	if (compat) {
		/* Into compatibility mode through __USER32_CS, which sits 16 below __USER_CS in
		 * the GDT (the order SYSRET needs, arch/x86/include/asm/segment.h); back through
		 * our own CS. A 32-bit stack: the stub's code sees only ESP. */
		static char *stack32;
		if (!stack32) {
			void *m = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
			if (m == MAP_FAILED) {
				snprintf(why, sizeof why, "cannot map a stack below 4 GiB (MAP_32BIT): %s", strerror(errno));
				goto unsupported;
			}
			stack32 = m;
		}
		if (entry_ip >= 0x100000000ULL) {
			snprintf(why, sizeof why, "compat code needs its entry instruction below 4 GiB (0x%llx)", (unsigned long long)entry_ip);
			goto unsupported;
		}
		if (!(c->regs_set >> 7 & 1)) {
			sysabi_ctl.in.gpr[7] = (uint64_t)(uintptr_t)(stack32 + 65536 - 64);
			sysabi_ctl.flags |= CTL_F_RSP;
		}
		sysabi_far32.offset = (uint32_t)entry_ip;
		sysabi_far32.selector = (uint16_t)(g_cs - 16);
		sysabi_far64.offset = (uint32_t)(uintptr_t)sysabi_resume;
		sysabi_far64.selector = g_cs;
		sysabi_compat_ds = g_ss;
		sysabi_ctl.target = (uint64_t)(uintptr_t)sysabi_to_compat;
	}
#endif

	/* Set-up calls (probes/setup.c): with the regions, fds and operands ready, before signals
	 * are blocked and any breakpoint, filter or tracer exists, so the case's own call is the
	 * first those see. A set-up call that did not do what the case asked is an error. */
	if (c->setup && sysabi_setup_run(c->setup, c, setup_resolve, why, sizeof why) < 0)
		goto failed;
	/* Instructions before the entry (probes/before.c): the trampoline jumps to them, they jump
	 * to the entry stub; last, so they run in the case's context after all its set-up. */
	if (c->before && sysabi_before_prepare(c->before, &sysabi_ctl.target, why, sizeof why) < 0)
		goto unsupported;
	g_traps = 0;
	g_ndelivered = 0;
	g_case_tf = (c->rflags & 0x100) != 0;
	g_sigreturn_pending = c->entry == E_SIGRETURN;
	sigset_t old;
	if (c->blocked) {
		sigset_t set;
		sigemptyset(&set);
		for (int s = 1; s <= 64; s++)
			if (c->blocked & (1ULL << (s - 1)))
				sigaddset(&set, s);
		sigprocmask(SIG_BLOCK, &set, &old);
	}
	volatile int faulted = 0;
	uint64_t fsb = 0, gsb = 0;
	/* RT-04 (probes/hwbp.c): before the filters, which could refuse perf_event_open. */
	if (c->hwbp && (hwbp_fd = sysabi_hwbp_arm(next_ip, why, sizeof why)) < 0)
		goto unsupported;
	/* Filters last, so nothing of the set-up runs under them (only in a forked child:
	 * main() never runs a case with filters in the probe itself). */
	if (c->sc && sc_install && !(c->th && c->th->main_after)) {
		/* A refused install is recorded for the observation (SC-06), not a failure. */
		int scr = install_filters(c, why, sizeof why);
		if (scr == -2)
			goto unsupported;
		if (scr < 0)
			goto failed;
	}
	/* RG-06 (probes/contend.c): the low stack first, then the busy sibling on our CPU. */
	volatile int contend_round = 0, contend_cpu = -1;
	if (c->post.has_cstack && sysabi_cstack_prepare(why, sizeof why) < 0)
		goto unsupported;
	if (c->post.contend_rounds && (contend_cpu = sysabi_contend_start(why, sizeof why)) < 0)
		goto unsupported;
	/* Under a tracer: stop here so the parent can set its options and resume in the
	 * script's mode; the case's call is then the next system call (probes/ptrace.c). */
	if (c->pt)
		pt_child_stop((pid_t)g_pid);
	/* No mask saved: the probe's mask is restored by hand on the rare fault path. */
	volatile int th_killed = 0;
	volatile pid_t th_tid = 0;
contend_again:
	if (c->th) {
		/* Case.thread (probes/thread.c): the call runs in a second thread; filters marked
		 * `after` are installed by this (main) thread once that thread exists. */
		struct th_result thr;
		g_th_scr = 0;
		int tr = th_run(c->th, c->th->main_after && c->sc && sc_install ? th_main_install : 0, th_call, c, c->timeout_ms, &thr, why, sizeof why);
		if (g_th_scr < 0)
			snprintf(why, sizeof why, "%s", g_th_why);
		if (tr == -2 || g_th_scr == -2)
			goto unsupported;
		if (tr < 0)
			goto failed;
		faulted = thr.ended == TH_SIGNAL;
		th_killed = thr.ended == TH_KILLED;
		th_tid = thr.tid;
	} else if (sysabi_setjmp(&g_jb) == 0) {
		g_in_case = 1;
		sysabi_enter();
		g_in_case = 0;
	} else {
		faulted = 1;
	}
	/* The call is over: the tracer detaches at this marker's entry stop. */
	if (c->pt)
		sysabi_pt_marker();
	/* Case.after (probes/setup.c): calls right after the call returned, before the after-call
	 * steps; the call's registers are already saved in sysabi_ctl.after. */
	if (!faulted && !th_killed && c->after && sysabi_setup_run(c->after, c, setup_resolve, why, sizeof why) < 0)
		goto failed;
	/* After-call steps (probes/post.h): a fault there is the case's signal outcome. */
	struct post_res post_res = { { 0 }, 0, 0 };
	if (!faulted && c->post.active) {
		if (sysabi_setjmp(&g_jb) == 0) {
			g_in_case = 1;
			sysabi_post_run(&c->post, &post_res);
			g_in_case = 0;
		} else {
			faulted = 1;
		}
		sysabi_post_restore();
	}
	/* RG-06: call and steps again while they return, up to the case's rounds. */
	if (c->post.contend_rounds) {
		contend_round++;
		if (!faulted && contend_round < c->post.contend_rounds)
			goto contend_again;
		sysabi_contend_stop();
	}
	sysabi_hwbp_disarm(hwbp_fd);
	hwbp_fd = -1;
	fsb = read_fsbase();
	restore_fsbase(fsb);
	gsb = read_gsbase();
#ifdef __x86_64__
	if (compat) {
		/* Back to the null DS/ES 64-bit code normally runs with. */
		uint16_t z = (uint16_t)sysabi_ctl.before.seg[2];
		__asm__ volatile("mov %0, %%ds; mov %0, %%es" : : "r"(z));
	}
#endif
	/* A forked child is about to exit: no mask to restore, and no system call that a
	 * seccomp filter installed by the case could refuse. */
	if ((faulted || c->blocked) && !g_in_child) {
		/* Back to the probe's own mask, not an empty one: SIGCHLD must stay blocked, or a
		 * child that exits between wait_child()'s WNOHANG check and its sigtimedwait is
		 * only noticed at the case's deadline (seconds per forked case). */
		sigprocmask(SIG_SETMASK, c->blocked ? &old : &g_base_mask, 0);
	}
	g_case_tf = 0;
	g_sigreturn_pending = 0;

	/* ---- the observation */
	emit_head(b, c->id, th_killed ? "killed" : faulted ? "signal" : "returned");
	sysabi_ctl.in.rflags = sysabi_ctl.before.rflags; /* as read back after POPF */
	sysabi_ctl.in.rip = entry_ip;
	memcpy(sysabi_ctl.in.seg, sysabi_ctl.before.seg, sizeof sysabi_ctl.in.seg);
#ifdef __x86_64__
	if (compat) {
		/* What the entry instruction ran with (set by sysabi_to_compat). */
		sysabi_ctl.in.seg[0] = sysabi_far32.selector;
		sysabi_ctl.in.seg[2] = sysabi_ctl.in.seg[3] = sysabi_compat_ds;
	}
#endif
	jb_s(b, ",\"before\":");
	emit_frame(b, &sysabi_ctl.in, 1, 0, 0, 0);
	if (th_killed) {
		/* The second thread ended in its call: no registers after it, no signal frame. */
	} else if (!faulted) {
		sysabi_ctl.after.rip = next_ip;
#ifdef __x86_64__
		/* The stub's far jump back ran in compatibility mode at next_ip, so that is the
		 * CS the entry returned to; the stores happened after the switch to 64-bit. */
		if (compat)
			sysabi_ctl.after.seg[0] = sysabi_far32.selector;
#endif
		jb_s(b, ",\"after\":");
		emit_frame(b, &sysabi_ctl.after, 1, CODE64, fsb, gsb);
	} else {
		jb_s(b, ",\"signal\":");
		emit_sigrec(b, &g_sig);
	}
	if (c->rflags & 0x100) {
		jb_s(b, ",\"traps\":");
		jb_int(b, g_traps);
		char tl[TRAP_LOG_MAX * 64 + 32];
		if (sysabi_trap_log_json(tl, sizeof tl, g_traps, CODE64))
			jb_s(b, tl);
	}
	if (c->sc && sc_results_json) {
		char scj[SC_MAX_FILTERS * 40 + 64];
		sc_results_json(c->sc, scj, sizeof scj);
		jb_s(b, scj);
	}
	if (c->th) {
		jb_s(b, ",\"thread\":{");
		int f2 = 1;
		jb_kv_hex(b, &f2, "tid", (uint64_t)th_tid);
		jb_s(b, th_killed ? ",\"ended\":\"killed\"}" : faulted ? ",\"ended\":\"signal\"}" : ",\"ended\":\"returned\"}");
	}
	if (g_ndelivered) {
		jb_s(b, ",\"delivered\":[");
		for (int i = 0; i < g_ndelivered; i++) {
			if (i)
				jb_raw(b, ",", 1);
			emit_sigrec(b, &g_delivered[i]);
		}
		jb_raw(b, "]", 1);
	}
	if (!faulted && c->post.active) {
		jb_s(b, ",\"post\":{");
		int f2 = 1;
		if (c->post.has_sel[0] || c->post.has_sel[1] || c->post.has_sel[2] || c->post.has_sel[3]) {
			jb_s(b, "\"segs\":{");
			for (int i = 0; i < 4; i++)
				if (c->post.has_sel[i])
					jb_kv_hex(b, &f2, SEG_NAMES[2 + i], post_res.sel[i]);
			jb_raw(b, "}", 1);
			f2 = 0;
		}
		if (c->post.has_peek)
			jb_kv_hex(b, &f2, "peek", post_res.value);
		if (c->post.has_cstack)
			jb_kv_hex(b, &f2, "compat_stack", post_res.cstack);
		jb_raw(b, "}", 1);
	}
	{
		/* The raw results of the set-up calls and after-calls (`$setup.N.ret`, `$after.N.ret`). */
		char rj[SETUP_MAX * 24 + 32];
		/* Only when there is something: a strlen on every case is glibc text a forked child
		 * would fault in for nothing (bench/RESULTS.md ## native). */
		sysabi_setup_json(c->setup, rj, sizeof rj);
		if (rj[0])
			jb_s(b, rj);
		sysabi_setup_json(c->after, rj, sizeof rj);
		if (rj[0])
			jb_s(b, rj);
	}
	int anyread = 0;
	for (int i = 0; i < c->nmem; i++) {
		struct region *m = &c->mem[i];
		if (!m->readback)
			continue;
		jb_s(b, anyread ? "," : ",\"memory\":{");
		anyread = 1;
		jb_str(b, m->name);
		jb_raw(b, ":\"", 2);
		if (m->prot != P_RW)
			mprotect(m->map, m->maplen, PROT_READ);
		size_t n = m->size > 65536 ? 65536 : m->size;
		jb_need(b, n * 2 + 2);
		const uint8_t *p = (const uint8_t *)(uintptr_t)m->addr;
		for (size_t k = 0; k < n; k++) {
			b->p[b->len++] = "0123456789abcdef"[p[k] >> 4];
			b->p[b->len++] = "0123456789abcdef"[p[k] & 15];
		}
		jb_raw(b, "\"", 1);
	}
	if (anyread)
		jb_raw(b, "}", 1);
	if (c->observe) { /* after the call: the maps as the call left them */
		static char obsbuf[8192];
		if ((c->observe & OBS_AUXV) && sysabi_auxv_json(obsbuf, sizeof obsbuf))
			jb_s(b, obsbuf);
		if ((c->observe & OBS_MAPS) && sysabi_maps_json(obsbuf, sizeof obsbuf))
			jb_s(b, obsbuf);
	}
	jb_s(b, ",\"env\":{");
	emit_ids(b);
	int first = 0;
	jb_kv_hex(b, &first, "entry_ip", entry_ip);
	jb_kv_hex(b, &first, "next_ip", next_ip);
	if (g_unmapped)
		jb_kv_hex(b, &first, "unmapped", g_unmapped);
	if (c->nmem) {
		jb_s(b, ",\"bufs\":{");
		int f2 = 1;
		for (int i = 0; i < c->nmem; i++)
			jb_kv_hex(b, &f2, c->mem[i].name, c->mem[i].addr);
		jb_raw(b, "}", 1);
	}
	jb_s(b, ",\"fds\":{");
	{
		int f2 = 1;
		int have_null = 0;
		for (int i = 0; i < c->nfd; i++) {
			const struct fdspec *f = &c->fds[i];
			if (strcmp(f->name, "null") == 0)
				have_null = 1;
			if (f->kind == FK_PIPE) {
				char nm[NAME_MAX_LEN + 4];
				snprintf(nm, sizeof nm, "%s.r", f->name);
				jb_kv_hex(b, &f2, nm, (uint64_t)f->fd);
				snprintf(nm, sizeof nm, "%s.w", f->name);
				jb_kv_hex(b, &f2, nm, (uint64_t)f->fd2);
			} else {
				jb_kv_hex(b, &f2, f->name, (uint64_t)f->fd);
			}
		}
		if (!have_null && g_nullfd >= 0)
			jb_kv_hex(b, &f2, "null", (uint64_t)g_nullfd);
	}
	jb_s(b, "},\"extra\":{");
	first = 1;
	jb_kv_hex(b, &first, "vdso", g_auxv_vdso);
	if (g_vdso_size)
		jb_kv_hex(b, &first, "vdso_size", g_vdso_size);
	if (g_auxv_sysinfo)
		jb_kv_hex(b, &first, "at_sysinfo", g_auxv_sysinfo);
	if (c->observe & OBS_AUXV) { /* VD-01: AT_SYSINFO compared with the vDSO's own symbol table */
		uint64_t kv = (uint64_t)sysabi_vdso_sym("__kernel_vsyscall");
		if (kv)
			jb_kv_hex(b, &first, "kernel_vsyscall", kv);
	}
	if (c->entry == E_VDSO_FN || c->entry == E_VDSO || c->entry == E_VSYSCALL)
		jb_kv_hex(b, &first, "call_target", sysabi_ctl.call);
	if (c->hwbp)
		jb_kv_hex(b, &first, "breakpoint", next_ip);
	if (c->post.contend_rounds) {
		jb_kv_hex(b, &first, "contend_rounds", (uint64_t)contend_round);
		jb_kv_hex(b, &first, "contend_cpu", (uint64_t)contend_cpu);
	}
	jb_s(b, "}}}\n");
	flush_obs(b);
	goto cleanup;

unsupported:
	emit_simple(b, c->id, "unsupported", why);
	flush_obs(b);
	goto cleanup;
failed:
	emit_simple(b, c->id, "error", why);
	flush_obs(b);
cleanup:
	sysabi_hwbp_disarm(hwbp_fd);
	if (g_in_child)
		return; /* the process ends: the kernel unmaps and closes */
	if (placed)
		unplace(&pl);
	for (int i = 0; i < nmapped; i++)
		munmap(c->mem[i].map, c->mem[i].maplen);
	for (int i = 0; i < nopen; i++) {
		if (c->fds[i].kind == FK_CLOSED)
			continue;
		if (c->fds[i].fd >= 0)
			close(c->fds[i].fd);
		if (c->fds[i].fd2 >= 0)
			close(c->fds[i].fd2);
	}
}

/* ------------------------------------------------------------------ forked cases */

static void remove_tree(int parent, const char *name, int depth)
{
	if (unlinkat(parent, name, 0) == 0 || depth > 16)
		return;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		DIR *d = fdopendir(fd);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d)))
				if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
					remove_tree(dirfd(d), e->d_name, depth + 1);
			closedir(d);
		} else {
			close(fd);
		}
	}
	unlinkat(parent, name, AT_REMOVEDIR);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The forked child's own system calls, made right here instead of through glibc's
 * wrappers: a freshly forked child has no page-table entries for the executable's text
 * (kernel/fork.c copies none for a file mapping without anon_vma, mm/memory.c:
 * vma_needs_copy), so every 64 KiB stretch of text it runs costs a fault (fault-around,
 * mm/filemap.c: filemap_map_pages); the wrappers (prctl, dup2, setrlimit, alarm, syscall)
 * sit in three more such stretches of libc than this file's code. No errno either: the
 * caller looks at the -errno return where it matters. Numbers from <sys/syscall.h> carry
 * the x32 bit in an x32 build. */
static inline long kcall(long nr, unsigned long a, unsigned long b, unsigned long c, unsigned long d, unsigned long e)
{
#ifdef __x86_64__
	/* SYSCALL: arguments in rdi, rsi, rdx, r10, r8; the CPU overwrites rcx and r11
	 * (arch/x86/entry/entry_64.S). 64-bit registers even for x32, zero-extended. */
	register unsigned long long r10 __asm__("r10") = d;
	register unsigned long long r8 __asm__("r8") = e;
	unsigned long long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((unsigned long long)nr), "D"((unsigned long long)a), "S"((unsigned long long)b),
			   "d"((unsigned long long)c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return (long)ret;
#else
	/* int $0x80: ebx, ecx, edx, esi, edi (arch/x86/entry/entry_32.S); -fno-pie leaves ebx free. */
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "0"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e) : "memory");
	return ret;
#endif
}

/* The case's directory as a descriptor (fchdir: no path walk per case), set by casedir_ready. */
static int g_casedir_fd = -1;

/* Isolation of a case's process (forked child or CLONE_VM child), first thing it does.
 * RLIMIT_CORE is not here: the probe set it to 0 for itself at start and every child
 * inherits it (init_process). */
static void child_setup(const struct pcase *c, const char *dir, int report_fd)
{
	g_in_child = 1;
	/* The probe dying (the harness killed it) takes the child with it. */
	kcall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* The probe keeps SIGCHLD blocked; the case starts with nothing blocked (kernel sigset: 8 bytes). */
	uint64_t none = 0;
	kcall(SYS_rt_sigprocmask, SIG_SETMASK, (uintptr_t)&none, 0, sizeof none, 0);
	/* Nothing the case prints may reach the protocol stream: stdio goes to /dev/null
	 * (the probe keeps one open; fd:null stays a separate descriptor). */
	if (g_nullfd >= 0) {
		kcall(SYS_dup2, (unsigned)g_nullfd, 0, 0, 0, 0);
		kcall(SYS_dup2, (unsigned)g_nullfd, 1, 0, 0, 0);
		kcall(SYS_dup2, (unsigned)g_nullfd, 2, 0, 0, 0);
	}
	g_report_fd = report_fd;
	/* prlimit64 on ourselves (pid 0): the same struct (two u64) on every ABI. */
	unsigned secs = c->timeout_ms / 1000 + 1;
	uint64_t cpu[2] = { secs, secs + 1 };
	kcall(SYS_prlimit64, 0, RLIMIT_CPU, (uintptr_t)cpu, 0, 0);
	/* Address space: plenty for the probe, not enough for a runaway case to hurt. Per
	 * child, not once in the probe: under valgrind the probe's process is valgrind's too. */
	uint64_t as[2] = { 1ULL << 30, 1ULL << 30 };
	kcall(SYS_prlimit64, 0, RLIMIT_AS, (uintptr_t)as, 0, 0);
	if ((g_casedir_fd >= 0 ? kcall(SYS_fchdir, (unsigned)g_casedir_fd, 0, 0, 0, 0) : kcall(SYS_chdir, (uintptr_t)dir, 0, 0, 0, 0)) != 0)
		_exit(72);
	kcall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* Backstop for the parent's timeout: SIGALRM's default action ends the child. */
	kcall(SYS_alarm, secs + 1, 0, 0, 0, 0);
	/* Single-threaded child: its tid is its pid; its parent is the probe. */
	g_ppid = g_pid;
	g_pid = g_tid = sysabi_self_pid = (uint64_t)kcall(SYS_getpid, 0, 0, 0, 0, 0);
}

static void child_signals(const struct pcase *c)
{
	if (!c->ndisp)
		return;
	for (int s = 1; s < NSIG_MAX; s++) {
		/* SA_RESTART decides what a -ERESTARTSYS call does after a handler (arch/x86/kernel/signal.c
		 * handle_signal); the kernel keeps it for SIG_IGN too, where it changes nothing. */
		int extra = (c->sa_restart >> (s - 1)) & 1 ? SA_RESTART : 0;
		g_record[s] = c->disp[s];
		if (c->disp[s] == D_DEFAULT) {
			signal(s, SIG_DFL);
		} else if (c->disp[s] == D_IGNORE) {
			struct sigaction sa;
			memset(&sa, 0, sizeof sa);
			sa.sa_handler = SIG_IGN;
			sa.sa_flags = extra;
			sigaction(s, &sa, 0);
		} else if (c->disp[s] == D_RECORD) {
			install_handler(s, extra);
		}
	}
}

static void child_exec(const struct pcase *c, int report_fd)
{
	/* The exec'd program reports on fd 3 (exec_*.S). */
	if (report_fd != 3) {
		dup2(report_fd, 3);
		close(report_fd);
	} else {
		fcntl(3, F_SETFD, 0);
	}
	/* Under an emulator the exec'd program must be emulated too: SYSABI_EXEC_WRAPPER
	 * ("qemu-x86_64", or a command with space-separated arguments) is put in front. */
	char *argv[16];
	int n = 0;
	static char wrapper[1024];
	const char *w = getenv("SYSABI_EXEC_WRAPPER");
	if (w && *w) {
		snprintf(wrapper, sizeof wrapper, "%s", w);
		n = split_words(wrapper, argv, 14);
	}
	argv[n++] = g_exec_probe;
	argv[n] = 0;
	char *envp[] = { 0 };
	if (argv[0][0] == '/' || n == 1)
		execve(argv[0], argv, envp);
	else
		execvp(argv[0], argv); /* a bare wrapper name is looked up in PATH */
	int e = errno;
	char why[600];
	snprintf(why, sizeof why, "execve %.300s%s%.200s failed: %s (errno %d)", argv[0], n > 1 ? " … " : "", n > 1 ? g_exec_probe : "", strerror(e), e);
	g_report_fd = 3;
	emit_simple(&g_out, c->id, "unsupported", why);
	flush_obs(&g_out);
	_exit(127);
}

static void emit_exec_frame(const struct pcase *c, const struct sysabi_frame *f, uint64_t child, int with_bases, const uint64_t *bases)
{
	struct jbuf *b = &g_out;
	emit_head(b, c->id, "returned");
	jb_s(b, ",\"before\":{},\"after\":");
	emit_frame(b, f, 1, with_bases, bases[0], bases[1]);
	jb_s(b, ",\"env\":{");
	int first = 1;
	jb_kv_hex(b, &first, "pid", child);
	jb_kv_hex(b, &first, "ppid", g_pid);
	jb_kv_hex(b, &first, "uid", g_uid);
	jb_kv_hex(b, &first, "gid", g_gid);
	jb_kv_hex(b, &first, "entry_ip", f->rip);
	jb_s(b, "}}\n");
}

/* The forked cases' working directory: private to this probe (mode 0700), created on first
 * use, checked empty before each case and replaced when a case left something in it, so
 * every case starts in an empty directory of its own without a mkdir per case (mkdir costs
 * more than the rest of the child's set-up on these VMs). Removed at exit. */
static char g_casedir[1100];

static void remove_casedir(void)
{
	if (g_casedir[0])
		remove_tree(AT_FDCWD, g_casedir, 0);
}

/* Only "." and ".." in the directory? One getdents64 call (include/uapi/linux/dirent.h layout). */
static int casedir_empty(void)
{
	char buf[1024] __attribute__((aligned(8)));
	if (lseek(g_casedir_fd, 0, SEEK_SET) != 0)
		return 0;
	long n = syscall(SYS_getdents64, g_casedir_fd, buf, sizeof buf);
	if (n <= 0)
		return 0;
	for (long off = 0; off < n;) {
		unsigned short reclen;
		memcpy(&reclen, buf + off + 16, sizeof reclen);
		const char *name = buf + off + 19;
		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
			return 0;
		off += reclen;
	}
	return 1;
}

static int casedir_ready(char *why, size_t whylen)
{
	if (g_casedir_fd >= 0 && casedir_empty())
		return 0;
	if (g_casedir_fd >= 0) {
		close(g_casedir_fd);
		g_casedir_fd = -1;
		remove_tree(AT_FDCWD, g_casedir, 0);
	}
	snprintf(g_casedir, sizeof g_casedir, "%s/sysabi-probe-XXXXXX", g_tmpdir);
	if (!mkdtemp(g_casedir)) {
		snprintf(why, whylen, "cannot create a private directory in %.400s: %s", g_tmpdir, strerror(errno));
		g_casedir[0] = 0;
		return -1;
	}
	static int registered;
	if (!registered++)
		atexit(remove_casedir);
	g_casedir_fd = open(g_casedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return 0;
}

/* Wait for the child to end, at most until deadline (ms); false on timeout. The probe keeps
 * SIGCHLD blocked (children unblock it), so sigtimedwait sleeps exactly until a child
 * exits: one system call, no descriptor to allocate (pidfd_open costs more here). It sleeps
 * first and asks waitpid after: a child that already ended left SIGCHLD pending, so the
 * sleep returns at once, and a stale SIGCHLD (another child's) only costs one more round. */
static int wait_child(pid_t pid, long long deadline, int *st)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		long long left = deadline - now_ms();
		if (left > 0) {
			/* With observations held back, a nap of 2 ms first: a slow case must not
			 * keep the earlier answers from the harness (see struct outq). */
			long long nap = outq_pending() && left > 2 ? 2 : left;
			struct timespec ts = { (time_t)(nap / 1000), (long)(nap % 1000) * 1000000L };
			if (sigtimedwait(&chld, 0, &ts) < 0 && nap < left)
				outq_flush();
		}
		pid_t r = waitpid(pid, st, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return 1;
		if (left <= 0)
			return 0;
	}
}

/* Set from SYSABI_NO_CLONE_VM: isolated cases always fork (see main). */
static int g_no_clone_vm;

/* Isolated cases whose call can neither change nor write the address space run in a
 * CLONE_VM child instead of a forked one: no page tables to copy at clone, no copy-on-write
 * faults, no mm to tear down at exit (kernel/fork.c: copy_mm with CLONE_VM only takes a
 * reference). Everything else of the isolation is still the child's own, because without
 * CLONE_FILES/CLONE_FS/CLONE_SIGHAND/CLONE_THREAD it gets private copies of the descriptor
 * table, the cwd, the signal handlers and the signal_struct (rlimits, alarm timer); and the
 * parent keeps its own timer on it. What it shares is memory, so only calls that take no
 * pointer and cannot change mappings qualify (an explicit list, exact numbers: anything
 * else, including a number with high bits or the x32 bit, takes the fork path), with no
 * memory, descriptors, signal set-up, filter, tracer or after-call step; and the probe
 * saves and restores the few globals the child writes (struct vm_saved). */
#if defined(__x86_64__) && !defined(__ILP32__)
static int shares_mm_safely(const struct pcase *c)
{
	if (c->entry != E_SYSCALL || !c->code64 || c->nmem || c->nfd || c->ndisp || c->blocked || c->sc || c->pt || c->setup || c->after ||
	    c->post.active || c->post.contend_rounds || c->sret_set || c->th)
		return 0;
	/* Only literal and process-identity operands (no buffer, no unmapped page: finding
	 * an unmapped page maps and unmaps one). */
	for (int i = 0; i < 16; i++)
		if ((c->regs_set >> i & 1) && (c->regs[i].ref == R_BUF || c->regs[i].ref == R_UNMAPPED || c->regs[i].ref == R_FD))
			return 0;
	switch (c->nr) {
	case SYSABI_NR_X86_64_getpid:
	case SYSABI_NR_X86_64_getppid:
	case SYSABI_NR_X86_64_gettid:
	case SYSABI_NR_X86_64_getuid:
	case SYSABI_NR_X86_64_geteuid:
	case SYSABI_NR_X86_64_getgid:
	case SYSABI_NR_X86_64_getegid:
	case SYSABI_NR_X86_64_getpgrp:
	case SYSABI_NR_X86_64_getpgid:
	case SYSABI_NR_X86_64_getsid:
	case SYSABI_NR_X86_64_sched_yield:
	case SYSABI_NR_X86_64_pause:
	case SYSABI_NR_X86_64_exit:
	case SYSABI_NR_X86_64_exit_group: /* a CLONE_VM child without CLONE_THREAD is its own group */
		return 1;
	default:
		return 0;
	}
}
#else
static int shares_mm_safely(const struct pcase *c)
{
	(void)c;
	return 0;
}
#endif

/* The CLONE_VM child's stack and signal stack: its own (it runs while the probe waits on
 * its stack), mapped once, MADV_DONTFORK so forked children do not carry them. */
#define VM_STACK_SIZE ((size_t)256 << 10)
#define VM_ALTSTACK_SIZE ((size_t)64 << 10)
static char *g_vm_stack;

struct vm_saved {
	struct jbuf out;
	int report_fd;
	uint64_t pid, tid, ppid, self_pid;
};

static int vm_child_main(void *arg)
{
	struct pcase *c = arg;
	g_child_shm = 1;
	g_out.p = g_shm->data;
	g_out.cap = SHM_REPORT_CAP - sizeof *g_shm;
	g_out.len = 0;
	child_setup(c, g_casedir, -1);
	/* The kernel clears the signal stack of a CLONE_VM child that is not a vfork child
	 * (kernel/fork.c, copy_process: sas_ss_sp), so fault recovery needs its own. */
	stack_t ss = { .ss_sp = g_vm_stack + VM_STACK_SIZE, .ss_size = VM_ALTSTACK_SIZE, .ss_flags = 0 };
	sigaltstack(&ss, 0);
	run_inline(c);
	/* exit, not exit_group, as in the forked child; never exit(): its atexit handler
	 * would remove the probe's case directory. */
	syscall(SYS_exit, 0);
	return 0;
}

static pid_t vm_clone(struct pcase *c, struct vm_saved *sv)
{
	if (!g_vm_stack) {
		void *m = mmap(0, VM_STACK_SIZE + VM_ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (m == MAP_FAILED)
			return -2;
		madvise(m, VM_STACK_SIZE + VM_ALTSTACK_SIZE, MADV_DONTFORK);
		g_vm_stack = m;
	}
	sv->out = g_out;
	sv->report_fd = g_report_fd;
	sv->pid = g_pid, sv->tid = g_tid, sv->ppid = g_ppid, sv->self_pid = sysabi_self_pid;
	return clone(vm_child_main, g_vm_stack + VM_STACK_SIZE, CLONE_VM | SIGCHLD, c);
}

/* Called once the CLONE_VM child has ended (or was killed anywhere in its run). */
static void vm_restore(const struct vm_saved *sv)
{
	g_out = sv->out;
	g_report_fd = sv->report_fd;
	g_pid = sv->pid, g_tid = sv->tid, g_ppid = sv->ppid, sysabi_self_pid = sv->self_pid;
	g_in_child = 0;
	g_child_shm = 0;
	/* Per-case flags the signal handler reads: a child killed mid-case may leave them set. */
	g_in_case = 0;
	g_case_tf = 0;
	g_sigreturn_pending = 0;
}

/* Where the probe parses each case: memory shared with its children (MAP_SHARED), with the
 * report buffer (g_shm) right behind it. Fork write-protects every private page of the
 * probe, so parsing the next case into a private page cost the probe a copy-on-write fault
 * per case (mm/memory.c: do_wp_page); a shared page keeps its writable entry. The child
 * reads the case where the probe wrote it, and its first read there maps the neighbouring
 * pages already in use (fault-around, mm/memory.c: do_read_fault), its report page among
 * them, so the case costs the child no fault of its own. What a child writes into the case
 * (the run-time fields of its regions and descriptors, map_region/open_fd) the probe never
 * reads: the next case that has them sets them again. If the mapping fails the case lives
 * in .bss and the report buffer is tried again later. */
static struct pcase *case_area(void)
{
	static struct pcase fallback __attribute__((aligned(4096)));
	size_t head = (sizeof(struct pcase) + 4095) & ~(size_t)4095;
	char *m = mmap(0, head + SHM_REPORT_CAP, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return &fallback;
	g_shm = (struct shm_report *)(m + head);
	return (struct pcase *)m;
}

/* The installs' results a child left in g_shm, for an observation the probe writes itself
 * (the child exited or was killed in its call). */
static void emit_shm_installs(struct pcase *c, int use_pipe)
{
	if (!c->sc || use_pipe || !g_shm || !sc_results_json || g_shm->sc_nres <= 0 || g_shm->sc_nres > SC_MAX_FILTERS + 1)
		return;
	c->sc->nres = g_shm->sc_nres;
	memcpy(c->sc->ret, g_shm->sc_ret, sizeof c->sc->ret);
	memcpy(c->sc->err, g_shm->sc_err, sizeof c->sc->err);
	char scj[SC_MAX_FILTERS * 40 + 64];
	sc_results_json(c->sc, scj, sizeof scj);
	jb_s(&g_out, scj);
}

static void run_forked(struct pcase *c)
{
	char why0[512];
	if (casedir_ready(why0, sizeof why0) < 0) {
		emit_simple(&g_out, c->id, "error", why0);
		flush_obs(&g_out);
		return;
	}
	const char *dir = g_casedir;
	if (!g_shm) {
		void *m = mmap(0, SHM_REPORT_CAP, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED)
			g_shm = m;
	}
	int use_pipe = c->entry == E_EXEC || !g_shm;
	if (c->pt && use_pipe) {
		emit_simple(&g_out, c->id, "unsupported", c->entry == E_EXEC ? "a ptrace tracer for exec cases is not implemented"
										 : "ptrace cases need the shared report buffer (mmap failed)");
		flush_obs(&g_out);
		return;
	}
	if (c->pt)
		/* 32-bit entries report ebx..ebp as the arguments (syscall_get_arguments). */
		c->pt->args32 = !CODE64 || !c->code64 || c->entry == E_INT80 || c->entry == E_SYSENTER || c->entry == E_VDSO;
	int p[2] = { -1, -1 };
	if (use_pipe && pipe2(p, O_CLOEXEC) != 0) {
		emit_simple(&g_out, c->id, "error", "pipe2 failed for the case report");
		flush_obs(&g_out);
		return;
	}
	if (!use_pipe) {
		g_shm->len = 0;
		g_shm->sc_nres = 0;
	}
	struct vm_saved vm_sv;
	int vm = !use_pipe && !g_no_clone_vm && shares_mm_safely(c);
	pid_t pid = vm ? vm_clone(c, &vm_sv) : -2;
	if (vm && pid < 0 && (errno == EINVAL || errno == ENOSYS)) {
		/* A user-mode emulator that cannot make such a child (qemu-user: EINVAL without
		 * CLONE_THREAD) and was not started with SYSABI_NO_CLONE_VM: fork this case and
		 * every later one. No child ran, so there is nothing to restore. */
		g_no_clone_vm = 1;
		pid = -2;
	}
	if (pid == -2) {
		vm = 0;
		/* A plain fork by clone(SIGCHLD): glibc's fork() also runs its atfork handlers,
		 * locks and resets malloc and stdio state and has the kernel store the child's
		 * tid (CLONE_CHILD_SETTID), which costs the child copy-on-write faults on pages
		 * it does not otherwise touch. The child uses no threads, stdio streams or
		 * malloc (the report is built in g_shm), and glibc's raise() asks the kernel
		 * for the tid instead of trusting the cached one (nptl/pthread_kill.c). */
		pid = (pid_t)kcall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		if (pid < 0)
			errno = -pid, pid = -1;
	}
	if (pid == 0) {
		if (use_pipe) {
			close(p[0]);
		} else {
			/* Build the observation straight into shared memory: no heap page of the
			 * probe gets copied on write, and the probe reads it in place. */
			g_child_shm = 1;
			g_out.p = g_shm->data;
			g_out.cap = SHM_REPORT_CAP - sizeof *g_shm;
			g_out.len = 0;
		}
		child_setup(c, dir, p[1]);
		/* Traced before anything else, so no filter of the case can refuse it. */
		if (c->pt && pt_child_traceme() != 0) {
			char w[160];
			snprintf(w, sizeof w, "PTRACE_TRACEME failed: %s", strerror(errno));
			emit_simple(&g_out, c->id, "unsupported", w);
			flush_obs(&g_out);
			_exit(0);
		}
		if (c->entry == E_EXEC)
			child_exec(c, p[1]);
		child_signals(c);
		run_inline(c);
		/* exit, not exit_group: seccomp strict mode allows only read, write, exit and
		 * rt_sigreturn (SC-07), and this process has a single thread. */
		kcall(SYS_exit, 0, 0, 0, 0, 0);
		_exit(0);
	}
	if (use_pipe)
		close(p[1]);
	if (vm && pid < 0)
		vm_restore(&vm_sv);
	if (pid < 0) {
		if (use_pipe)
			close(p[0]);
		emit_simple(&g_out, c->id, "error", "fork failed");
		flush_obs(&g_out);
		return;
	}
	struct jbuf rep = { 0, 0, 0 };
	long long deadline = now_ms() + c->timeout_ms;
	if (use_pipe || c->pt)
		outq_flush(); /* these waits take their time: nothing held back meanwhile */
	int timed_out = 0;
	int st = 0;
	char *events = 0, ptwhy[256] = "";
	if (use_pipe) {
		for (;;) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				timed_out = 1;
				break;
			}
			struct pollfd pf = { .fd = p[0], .events = POLLIN };
			int r = poll(&pf, 1, (int)left);
			if (r < 0 && errno == EINTR)
				continue;
			if (r == 0) {
				timed_out = 1;
				break;
			}
			jb_need(&rep, 65536);
			ssize_t n = read(p[0], rep.p + rep.len, 65536);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			rep.len += (size_t)n;
			if (rep.len > (16u << 20))
				break;
		}
		close(p[0]);
		if (timed_out)
			kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	} else if (c->pt) {
		/* The probe is the tracer: it runs the script until the child ends. */
		if (!pt_trace(pid, c->pt, deadline, &st, &events, ptwhy, sizeof ptwhy)) {
			timed_out = 1;
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
		}
		rep.p = g_shm->data;
		rep.len = g_shm->len;
		if (rep.len > SHM_REPORT_CAP - sizeof *g_shm)
			rep.len = 0;
	} else {
		if (!wait_child(pid, deadline, &st)) {
			timed_out = 1;
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
		}
		if (vm)
			vm_restore(&vm_sv);
		/* Read in place: no copy, no allocation in the probe per case. */
		rep.p = g_shm->data;
		rep.len = g_shm->len;
		if (rep.len > SHM_REPORT_CAP - sizeof *g_shm)
			rep.len = 0;
	}
	char why[256];
	if (timed_out) {
		snprintf(why, sizeof why, "case ran longer than its %u ms limit; child killed", c->timeout_ms);
		emit_simple(&g_out, c->id, "timeout", why);
	} else if (ptwhy[0]) {
		/* The tracer could not do what the script says: the case did not run as asked. */
		emit_simple(&g_out, c->id, "error", ptwhy);
	} else if (c->entry == E_EXEC && (rep.len == FR_SIZE || rep.len == FR_SIZE + 16) && memchr(rep.p, 0, rep.len)) {
		/* The exec program's binary frame; 64-bit ones append fs_base and gs_base. */
		struct sysabi_frame f;
		uint64_t bases[2] = { 0, 0 };
		memcpy(&f, rep.p, sizeof f);
		if (rep.len == FR_SIZE + 16)
			memcpy(bases, rep.p + FR_SIZE, sizeof bases);
		emit_exec_frame(c, &f, (uint64_t)pid, rep.len == FR_SIZE + 16, bases);
	} else if (rep.len > 0 && rep.p[rep.len - 1] == '\n' && rep.p[0] == '{') {
		/* The child's own complete observation line, passed on as it is (with the
		 * tracer's stops added before its closing brace). */
		if (events && rep.len >= 2 && rep.p[rep.len - 2] == '}') {
			outq_add(rep.p, rep.len - 2);
			outq_add(",\"events\":", 10);
			outq_add(events, strlen(events));
			outq_add("}\n", 2);
		} else {
			outq_add(rep.p, rep.len);
		}
	} else if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		if (sig == SIGALRM && (!c->ndisp || c->disp[SIGALRM] == D_NONE)) {
			snprintf(why, sizeof why, "case ran longer than its %u ms limit (alarm)", c->timeout_ms);
			emit_simple(&g_out, c->id, "timeout", why);
		} else {
			emit_head(&g_out, c->id, "killed");
			jb_s(&g_out, ",\"before\":{},\"exit\":{\"signal\":");
			jb_int(&g_out, sig);
			jb_s(&g_out, "}");
			emit_shm_installs(c, use_pipe);
			jb_s(&g_out, ",\"env\":{");
			int first = 1;
			jb_kv_hex(&g_out, &first, "pid", (uint64_t)pid);
			jb_kv_hex(&g_out, &first, "ppid", g_pid);
			jb_s(&g_out, "}}\n");
		}
	} else if (WIFEXITED(st)) {
		emit_head(&g_out, c->id, "exited");
		jb_s(&g_out, ",\"before\":{},\"exit\":{\"code\":");
		jb_int(&g_out, WEXITSTATUS(st));
		jb_s(&g_out, "}");
		emit_shm_installs(c, use_pipe);
		jb_s(&g_out, ",\"env\":{");
		int first = 1;
		jb_kv_hex(&g_out, &first, "pid", (uint64_t)pid);
		jb_kv_hex(&g_out, &first, "ppid", g_pid);
		jb_s(&g_out, "}}\n");
	} else {
		emit_simple(&g_out, c->id, "error", "child ended in an unknown state");
	}
	if (use_pipe)
		free(rep.p);
	if (events && g_out.len >= 2 && g_out.p[g_out.len - 2] == '}') {
		/* Stops seen before the child died or was killed belong to the observation too. */
		g_out.len -= 2;
		jb_s(&g_out, ",\"events\":");
		jb_s(&g_out, events);
		jb_s(&g_out, "}\n");
	}
	free(events);
	/* Only when something is left: flush_obs also stores len = 0, and that page of the
	 * probe's (.data.sysabi_child) is write-protected after every fork. */
	if (g_out.len)
		flush_obs(&g_out);
}

/* ------------------------------------------------------------------ commands */

static void cmd_info(void)
{
	struct jbuf *b = &g_out;
	b->len = 0;
	jb_s(b, "{\"info\":{\"abi\":\"" PROBE_ABI "\",\"protocol\":");
	jb_int(b, PROTOCOL_VERSION);
	uint16_t cs, ss;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	__asm__ volatile("mov %%ss, %0" : "=r"(ss));
	int first = 0;
	jb_kv_hex(b, &first, "pid", g_pid);
	jb_kv_hex(b, &first, "cs", cs);
	jb_kv_hex(b, &first, "ss", ss);
	jb_kv_hex(b, &first, "vdso", (uint64_t)sysabi_vdso_base());
	jb_kv_hex(b, &first, "at_sysinfo", (uint64_t)getauxval(AT_SYSINFO));
	jb_kv_hex(b, &first, "hwcap2", (uint64_t)getauxval(AT_HWCAP2));
	jb_s(b, ",\"exec_probe\":");
	jb_str(b, g_exec_probe);
	jb_s(b, "}}\n");
	flush_obs(b);
}

/* peek ADDR: read one byte at ADDR in a child (a fault there must not end the probe). */
static void cmd_peek(const char *arg)
{
	uint64_t addr;
	struct jbuf *b = &g_out;
	b->len = 0;
	if (!parse_u64(arg, &addr)) {
		jb_s(b, "{\"peek\":{\"ok\":false,\"reason\":\"bad address\"}}\n");
		flush_obs(b);
		return;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		alarm(5);
		uint8_t v = *(volatile uint8_t *)(uintptr_t)addr;
		if (write(p[1], &v, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	uint8_t v = 0;
	ssize_t n = pid > 0 ? read(p[0], &v, 1) : -1;
	close(p[0]);
	int st = 0;
	if (pid > 0)
		waitpid(pid, &st, 0);
	jb_s(b, "{\"peek\":{\"addr\":");
	jb_hexv(b, addr);
	if (n == 1) {
		jb_s(b, ",\"ok\":true,\"byte\":");
		jb_hexv(b, v);
	} else {
		jb_s(b, ",\"ok\":false,\"signal\":");
		jb_int(b, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	}
	jb_s(b, "}}\n");
	flush_obs(b);
}

/* ------------------------------------------------------------------ main loop */

struct linereader {
	char buf[1 << 16];
	size_t start, end;
	char *big;
	size_t bigcap;
};

/* Next line (without '\n'), or NULL at end of input. Lines longer than the buffer are
 * assembled in a growing side buffer (region contents can be long). */
static char *next_line(struct linereader *r)
{
	size_t bl = 0;
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl) {
			*nl = 0;
			char *s = r->buf + r->start;
			size_t n = (size_t)(nl - s);
			r->start += n + 1;
			if (!bl)
				return s;
			if (bl + n + 1 > r->bigcap) {
				r->bigcap = (bl + n + 1) * 2;
				r->big = realloc(r->big, r->bigcap);
				if (!r->big)
					_exit(70);
			}
			memcpy(r->big + bl, s, n + 1);
			return r->big;
		}
		if (r->start > 0 || r->end == sizeof r->buf) {
			size_t n = r->end - r->start;
			if (r->start == 0) {
				/* buffer full with no newline: move it to the side buffer */
				if (bl + n + 1 > r->bigcap) {
					r->bigcap = (bl + n + 1) * 2;
					r->big = realloc(r->big, r->bigcap);
					if (!r->big)
						_exit(70);
				}
				memcpy(r->big + bl, r->buf, n);
				bl += n;
				r->end = 0;
			} else {
				memmove(r->buf, r->buf + r->start, n);
				r->end = n;
				r->start = 0;
			}
		}
		outq_flush(); /* never wait for input with answers held back */
		ssize_t got = read(0, r->buf + r->end, sizeof r->buf - r->end);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return 0;
		r->end += (size_t)got;
	}
}

static void init_process(char **argv)
{
	(void)argv;
	sysabi_auxv_save(environ); /* before anything can replace environ */
	/* The harness runs the probe in its own process group (so it can kill it with its
	 * children); if the harness itself dies, a probe stuck in a case must not linger. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	g_pagesize = sysconf(_SC_PAGESIZE);
	g_pid = sysabi_self_pid = (uint64_t)getpid();
	g_tid = (uint64_t)syscall(SYS_gettid);
	g_ppid = (uint64_t)getppid();
	g_uid = (uint64_t)getuid();
	g_gid = (uint64_t)getgid();
	g_nullfd = open("/dev/null", O_RDWR);
	/* No core dumps, for the probe and (inherited: kernel/fork.c copies the rlimits into
	 * every child's signal_struct) for every case's child, where the isolation asks for it;
	 * set once here instead of once per child. Nothing loses by it in the probe: its
	 * in-process faults are caught by its handlers and never dump, a crash of the probe is
	 * reported by the harness from the exit status, and no case reads the probe's own
	 * RLIMIT_CORE (soft and hard 0, as each child had them before). */
	struct rlimit nocore = { 0, 0 };
	setrlimit(RLIMIT_CORE, &nocore);
	/* qemu-user refuses a CLONE_VM child without CLONE_THREAD (EINVAL) and valgrind aborts
	 * on one, so the wrapped targets (harness/targets/emulators.ts) turn that path off. */
	g_no_clone_vm = getenv("SYSABI_NO_CLONE_VM") != NULL;
	const char *t = getenv("TMPDIR");
	snprintf(g_tmpdir, sizeof g_tmpdir, "%s", t && *t ? t : "/tmp");
	const char *e = getenv("SYSABI_EXEC_PROBE");
	if (e && *e) {
		snprintf(g_exec_probe, sizeof g_exec_probe, "%s", e);
	} else {
		char self[3900];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n < 0)
			n = 0;
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = 0;
		snprintf(g_exec_probe, sizeof g_exec_probe, "%s/probe-exec-%s", slash ? self : ".", PROBE_ABI);
	}
#ifdef __x86_64__
	/* AT_HWCAP2 bit 1: the kernel enabled CR4.FSGSBASE (v5.9+), RDFSBASE is usable. */
	g_have_fsgsbase = (getauxval(AT_HWCAP2) & 2) != 0;
#endif
	g_auxv_vdso = (uint64_t)sysabi_vdso_base();
	g_vdso_size = sysabi_vdso_size(g_auxv_vdso);
	g_auxv_sysinfo = (uint64_t)getauxval(AT_SYSINFO);
	g_fsbase = read_fsbase();
	g_gsbase = read_gsbase();
	__asm__ volatile("mov %%ds, %0" : "=r"(g_ds0));
	__asm__ volatile("mov %%es, %0" : "=r"(g_es0));
#ifdef __x86_64__
	__asm__ volatile("mov %%cs, %0" : "=r"(g_cs));
	__asm__ volatile("mov %%ss, %0" : "=r"(g_ss));
#endif
	setup_signals();
}

int main(int argc, char **argv)
{
	(void)argc;
	init_process(argv);
	/* The input buffer is the probe's alone: MADV_DONTFORK keeps it out of forked
	 * children, so writing it after a fork costs no copy-on-write fault. */
	struct linereader *rd = mmap(0, sizeof *rd, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rd == MAP_FAILED)
		return 70;
	madvise(rd, sizeof *rd, MADV_DONTFORK);
	void *oq = mmap(0, OUTQ_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (oq != MAP_FAILED && madvise(oq, OUTQ_SIZE, MADV_DONTFORK) == 0)
		g_outq = oq;
	struct pcase *c = case_area();
	char *line;
	while ((line = next_line(rd))) {
		if (line[0] == 0 || line[0] == '#')
			continue;
		if (strcmp(line, "info") == 0) {
			outq_flush();
			cmd_info();
			continue;
		}
		if (strncmp(line, "peek ", 5) == 0) {
			outq_flush();
			cmd_peek(line + 5);
			continue;
		}
		if (strncmp(line, "case ", 5) != 0) {
			g_out.len = 0;
			jb_s(&g_out, "{\"protocol_error\":");
			char msg[200];
			snprintf(msg, sizeof msg, "expected a case, info or peek line, found \"%.100s\"", line);
			jb_str(&g_out, msg);
			jb_s(&g_out, "}\n");
			flush_obs(&g_out);
			continue;
		}
		if (c->ndisp)
			memset(c->disp, 0, sizeof c->disp);
		memset(c, 0, offsetof(struct pcase, regs));
		c->code64 = CODE64;
		c->rflags = 0x202;
		c->timeout_ms = 5000;
		c->entry = CODE64 ? E_SYSCALL : E_INT80;
		if (!pdecode(line + 5, c->id, sizeof c->id))
			case_bad(c, "bad case id", line);
		int ended = 0;
		while ((line = next_line(rd))) {
			if (parse_case_line(c, line)) {
				ended = 1;
				break;
			}
		}
		if (!ended)
			case_bad(c, "input ended inside the case", "");
		if (c->bad[0]) {
			emit_simple(&g_out, c->id, "error", c->bad);
			flush_obs(&g_out);
		} else if (c->isolate || c->entry == E_EXEC || c->entry == E_SIGRETURN || c->blocked || c->sc || c->pt) {
			run_forked(c);
		} else {
			if (c->ndisp) {
				run_forked(c);
			} else {
				/* An in-process case that hangs ends with the probe killed: nothing of
				 * the earlier cases may still be held back then (struct outq). */
				outq_flush();
				run_inline(c);
			}
		}
		case_free(c);
		if (!ended)
			break;
	}
	outq_flush();
	return 0;
}
