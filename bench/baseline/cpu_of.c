/*
 * Helper for bench/native.bench.ts: run one program with its stdin from a file (or
 * /dev/null) and its stdout on /dev/null, and print the CPU time and page faults it used,
 * its reaped children included, as one JSON line. The load of a shared machine stretches
 * wall-clock figures far more than CPU time, so the benchmark compares both.
 *
 * Usage: cpu_of INPUT|- PROGRAM [ARGS...]
 * The figures come from wait4's rusage (kernel/exit.c: wait_task_zombie fills it with
 * RUSAGE_BOTH, so the children the program waited for are counted): microsecond CPU
 * times, unlike /proc's clock ticks.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: cpu_of INPUT|- PROGRAM [ARGS...]\n");
		return 2;
	}
	int in = open(strcmp(argv[1], "-") == 0 ? "/dev/null" : argv[1], O_RDONLY | O_CLOEXEC);
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (in < 0 || out < 0) {
		perror("cpu_of: open");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("cpu_of: fork");
		return 2;
	}
	if (pid == 0) {
		dup2(in, 0);
		dup2(out, 1);
		execv(argv[2], argv + 2);
		perror("cpu_of: execv");
		_exit(127);
	}
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) != pid) {
		perror("cpu_of: wait4");
		return 2;
	}
	printf("{\"user_us\":%ld,\"sys_us\":%ld,\"minflt\":%ld,\"status\":%d}\n",
	       (long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_minflt,
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
