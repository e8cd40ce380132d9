// Load generator for the hook-cost benchmark: makes one guarded syscall
// (or a short fixed sequence) in a tight loop.  The benchmark runs it inside
// a cgroup (or with a socket it was handed) with or without a program
// attached.
//
//   loadgen OP ITERS [FD]
//
// runs the loop ITERS times after a warm-up and prints the mean
// nanoseconds per iteration.
//
//   loadgen -i OP CPU BURST CYCLES WARMUP VARIANT...
//
// compares variants (at most 8) in one run: it forks a process per VARIANT
// ("cgroup=PATH": the process moves itself into that cgroup; "fd=N": the
// op's FD; "-": neither), all pinned to CPU.  Each sets the op up, runs
// WARMUP iterations, then waits for its turn.  A cycle gives every variant
// one turn of BURST iterations, in an order that changes every cycle; each
// burst is timed in its own process.  One line per cycle: the variants' ns
// per iteration, in the order given.
//
// OP: one of loadgen_ops.c's table, e.g. setsockopt | socket_close | bind4 |
//     sysctl_read | sysctl_write (in a private netns) | send_recv (FD: a
//     bound UDP socket, with or without a socket filter) | packet_lo (FD, if
//     given: a socket filter program for a packet socket on lo, in a private
//     netns)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void write_all(int fd, const void *buf, size_t len, const char *what)
{
	if (write(fd, buf, len) != (ssize_t)len)
		die(what);
}

// 1 when len bytes were read, 0 at end of file.
static int read_all(int fd, void *buf, size_t len, const char *what)
{
	ssize_t got = read(fd, buf, len);

	if (got == 0)
		return 0;
	if (got != (ssize_t)len)
		die(what);
	return 1;
}

// One variant's process: it moves itself into its cgroup (cgroup=PATH) or
// takes its fd (fd=N), pins itself to the CPU, sets the op up there and
// warms up; then it runs one burst of the requested length per command
// and answers with the burst's nanoseconds, until end of file.
static void variant_process(const struct op *op, const char *spec, int cpu, long warm,
			    int commands, int answers)
{
	int fd = -1;
	long n;
	double ns = 0;

	if (!strncmp(spec, "cgroup=", 7)) {
		char path[4096];
		int procs;

		snprintf(path, sizeof(path), "%s/cgroup.procs", spec + 7);
		procs = open(path, O_WRONLY);
		if (procs < 0)
			die(path);
		write_all(procs, "0\n", 2, "moving into the cgroup");
		close(procs);
	} else if (!strncmp(spec, "fd=", 3)) {
		fd = atoi(spec + 3);
	} else if (strcmp(spec, "-")) {
		fprintf(stderr, "loadgen: bad variant %s\n", spec);
		exit(2);
	}
	pin_to(cpu);
	op->setup(fd);
	op->loop(warm);
	write_all(answers, &ns, sizeof(ns), "ready");
	while (read_all(commands, &n, sizeof(n), "command") && n > 0) {
		double start = now_ns();

		op->loop(n);
		ns = now_ns() - start;
		write_all(answers, &ns, sizeof(ns), "answer");
	}
	exit(0);
}

#define MAX_VARIANTS 8

// Cycle c runs every variant once, in the order: rotation (c / 2) % n of
// 0..n-1, reversed when c is odd.  For three variants the six cycles in a
// row are the six orders, so each variant comes first, last and after each
// other one equally often.
static int order_of(long c, int k, int n)
{
	int r = (c / 2) % n;

	return c % 2 ? (r + n - 1 - k) % n : (r + k) % n;
}

static int interleave(int argc, char **argv)
{
	const struct op *op = find_op(argv[2]);
	int cpu = atoi(argv[3]);
	long burst = atol(argv[4]), cycles = atol(argv[5]), warm = atol(argv[6]);
	int n = argc - 7, commands[MAX_VARIANTS], answers[MAX_VARIANTS];
	pid_t pids[MAX_VARIANTS];
	double *ns, ready;

	if (n < 1 || n > MAX_VARIANTS || burst < 1 || cycles < 1) {
		fprintf(stderr, "loadgen: bad -i arguments\n");
		return 2;
	}
	ns = calloc(cycles * n, sizeof(*ns));
	if (!ns)
		die("calloc");
	pin_to(cpu);
	for (int v = 0; v < n; v++) {
		int down[2], up[2];

		if (pipe(down) || pipe(up))
			die("pipe");
		pids[v] = fork();
		if (pids[v] < 0)
			die("fork");
		if (pids[v] == 0) {
			for (int w = 0; w < v; w++) {
				close(commands[w]);
				close(answers[w]);
			}
			close(down[1]);
			close(up[0]);
			variant_process(op, argv[7 + v], cpu, warm, down[0], up[1]);
		}
		close(down[0]);
		close(up[1]);
		commands[v] = down[1];
		answers[v] = up[0];
	}
	int failed = 0;

	for (int v = 0; v < n && !failed; v++)
		failed = !read_all(answers[v], &ready, sizeof(ready), "ready");
	for (long c = 0; c < cycles && !failed; c++)
		for (int k = 0; k < n && !failed; k++) {
			int v = order_of(c, k, n);

			write_all(commands[v], &burst, sizeof(burst), "command");
			failed = !read_all(answers[v], &ns[c * n + v], sizeof(double), "burst");
		}
	for (int v = 0; v < n; v++)
		close(commands[v]);        // end of file: the variant processes exit
	for (int v = 0; v < n; v++) {
		int status;

		if (waitpid(pids[v], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	}
	if (failed) {
		fprintf(stderr, "loadgen: a variant process failed\n");
		return 2;
	}
	for (long c = 0; c < cycles; c++) {
		for (int v = 0; v < n; v++)
			printf("%s%.3f", v ? " " : "", ns[c * n + v] / burst);
		printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 8 && !strcmp(argv[1], "-i"))
		return interleave(argc, argv);
	if (argc < 3 || argv[1][0] == '-') {
		fprintf(stderr, "usage: loadgen OP ITERS [FD]\n"
			"       loadgen -i OP CPU BURST CYCLES WARMUP VARIANT...\n");
		return 2;
	}
	const struct op *op = find_op(argv[1]);
	long iters = atol(argv[2]);

	op->setup(argc > 3 ? atoi(argv[3]) : -1);
	op->loop(iters / 10 + 1);   // warm caches and allocators
	double start = now_ns();

	op->loop(iters);
	printf("%.3f\n", (now_ns() - start) / iters);
	return 0;
}
