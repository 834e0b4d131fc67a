/*
 * Baseline for bench/native.bench.ts: the least work a forked (isolated) case can cost —
 * fork, one getpid in the child, _exit, waitpid in the parent. Usage: fork_loop N
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	for (long i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0) {
			long r;
			__asm__ volatile("syscall" : "=a"(r) : "0"(39L) : "rcx", "r11", "memory");
			_exit(r > 0 ? 0 : 1);
		}
		int st;
		waitpid(p, &st, 0);
	}
	return 0;
}
