/*
 * Hardware instruction breakpoints for RT-04 ("RF never returned through SYSRET",
 * ABI-FACTS §8.3). A user program reaches the debug registers through perf: a
 * PERF_TYPE_BREAKPOINT event with bp_type HW_BREAKPOINT_X programs DR0-3/DR7 for this thread
 * (arch/x86/kernel/hw_breakpoint.c), and attr.sigtrap (v5.13, kernel/events/core.c) turns
 * each hit into a synchronous SIGTRAP with si_code TRAP_PERF, si_addr = bp_addr, delivered
 * before the instruction runs. The probe's fault handler then reports it as the case's signal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hwbp.h"

/* Far above any descriptor a case names (they are the lowest free numbers). */
#define HWBP_FD_MIN 512

static long perf_open(struct perf_event_attr *a)
{
	/* pid 0, cpu -1: this thread on any CPU (the only form sigtrap accepts). */
	return syscall(SYS_perf_event_open, a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

int sysabi_hwbp_arm(uint64_t addr, char *why, size_t whylen)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.type = PERF_TYPE_BREAKPOINT;
	a.bp_type = HW_BREAKPOINT_X;
	a.bp_addr = addr;
	/* arch_build_bp_info wants bp_len == sizeof(long) *of the kernel* for an execute
	 * breakpoint (the length bits are meaningless for R/W = 00): 8 on a 64-bit kernel even
	 * for a 32-bit caller. A 32-bit kernel wants 4: tried second. */
	a.bp_len = 8;
	/* Every hit overflows (a sampling event with period 1), so every hit sends the signal. */
	a.sample_period = 1;
	/* A user-mode breakpoint only; kernel breakpoints also need privilege. */
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	/* sigtrap requires remove_on_exec (perf_event_open refuses it alone with EINVAL). */
	a.sigtrap = 1;
	a.remove_on_exec = 1;
	long fd = perf_open(&a);
	if (fd < 0 && errno == EINVAL && sizeof(long) == 4) {
		a.bp_len = 4;
		fd = perf_open(&a);
	}
	if (fd >= 0) {
		/* Armed after the case's descriptors exist, so the lowest free number may be one a
		 * `closed` descriptor of the case named (probe.c FK_CLOSED): the call under test
		 * would then close or use the breakpoint. Move it far above them. */
		int hi = fcntl((int)fd, F_DUPFD_CLOEXEC, HWBP_FD_MIN);
		if (hi >= 0) {
			close((int)fd);
			fd = hi;
		}
		return (int)fd;
	}
	int e = errno;
	const char *hint = "";
	switch (e) {
	case ENOSYS: hint = " (no perf_event_open here)"; break;
	case ENOENT: hint = " (no breakpoint PMU: PERF_TYPE_BREAKPOINT unknown)"; break;
	case EACCES:
	case EPERM: hint = " (kernel.perf_event_paranoid or a security module forbids it)"; break;
	case EOPNOTSUPP: hint = " (breakpoints not supported for this task)"; break;
	case EINVAL: hint = " (attr.sigtrap/remove_on_exec need Linux 5.13+)"; break;
	case ENOSPC: hint = " (no free debug register: a debugger may hold them)"; break;
	default: break;
	}
	snprintf(why, whylen, "cannot arm a hardware instruction breakpoint: perf_event_open(PERF_TYPE_BREAKPOINT, HW_BREAKPOINT_X, sigtrap) failed: %s%s",
		 strerror(e), hint);
	return -1;
}

void sysabi_hwbp_disarm(int fd)
{
	if (fd >= 0)
		close(fd);
}
