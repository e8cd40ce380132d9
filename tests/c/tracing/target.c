/* An ordinary program for the uprobe and sampling tests (gcc, frame
 * pointers kept so the kernel can walk its user stack).  It prints its pid,
 * then reads commands from stdin:
 *   "add N"   calls add_numbers(i, 1000 + i) for i < N, printing each sum;
 *   "spin MS" spins in spin_inner (called by spin_outer) for MS milliseconds;
 *   "quit"    exits.
 * Each command's output ends with "done". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) int add_numbers(int a, int b)
{
	__asm__ volatile("" ::: "memory");
	return a + b;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) unsigned long spin_inner(double until)
{
	volatile unsigned long n = 0;

	while (now_ms() < until)
		for (int i = 0; i < 100000; i++)
			n += i;
	return n;
}

__attribute__((noinline)) unsigned long spin_outer(double until)
{
	unsigned long n = spin_inner(until);

	__asm__ volatile("" ::: "memory");
	return n + 1;
}

int main(void)
{
	char line[64];
	int n;

	printf("pid %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof line, stdin)) {
		if (sscanf(line, "add %d", &n) == 1) {
			for (int i = 0; i < n; i++)
				printf("%d\n", add_numbers(i, 1000 + i));
		} else if (sscanf(line, "spin %d", &n) == 1) {
			spin_outer(now_ms() + n);
		} else if (strncmp(line, "quit", 4) == 0) {
			return 0;
		}
		printf("done\n");
		fflush(stdout);
	}
	return 0;
}
