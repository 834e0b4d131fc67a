/*
 * Baseline for bench/native.bench.ts: the least work an in-process register case can
 * cost — one raw getpid SYSCALL and one JSON line of the same shape and size as a probe
 * observation (24 registers before, 26 after, env), per iteration. Usage: inproc_loop N
 */
#include <stdio.h>
#include <stdlib.h>

static const char *const R[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
				 "r12", "r13", "r14", "r15", "rflags", "rip", "cs", "ss", "ds", "es", "fs", "gs" };

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000;
	for (long i = 0; i < n; i++) {
		long r;
		__asm__ volatile("syscall" : "=a"(r) : "0"(39L) : "rcx", "r11", "memory");
		printf("{\"id\":\"bench/case-%ld@x86_64\",\"outcome\":\"returned\",\"before\":{", i);
		for (int k = 0; k < 24; k++)
			printf("%s\"%s\":\"0x%lx\"", k ? "," : "", R[k], (unsigned long)(0x5a5a000000000000UL | (unsigned long)k));
		printf("},\"after\":{");
		for (int k = 0; k < 24; k++)
			printf("%s\"%s\":\"0x%lx\"", k ? "," : "", R[k], k ? (unsigned long)(0x5a5a000000000000UL | (unsigned long)k) : (unsigned long)r);
		printf(",\"fs_base\":\"0x0\",\"gs_base\":\"0x0\"},\"env\":{\"pid\":\"0x%lx\",\"tid\":\"0x%lx\",\"next_ip\":\"0x401000\"}}\n", r, r);
	}
	return 0;
}
