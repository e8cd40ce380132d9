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
// OP: setsockopt | getsockopt | getsockopt_tos | custom_sockopt | socket_close |
//     bind4 | bind6 | sysctl_read | sysctl_write (in a private netns) |
//     send_recv (FD: a bound UDP socket, with or without a socket filter) |
//     packet_lo (FD, if given: a socket filter program for a packet socket on
//     lo, in a private netns)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
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

// An op opens what its loop needs once per process (setup, given FD or
// -1), then its loop makes n iterations.  Failures of the guarded call
// itself are the program's business and are not checked, everything else is.
static int sock = -1, peer = -1, file = -1;

static int udp_socket(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0)
		die("socket");
	return s;
}

static void setup_udp(int fd)
{
	(void)fd;
	sock = udp_socket();
}

static void loop_setsockopt(long n)
{
	int tos = 0x10;

	for (long i = 0; i < n; i++)
		setsockopt(sock, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
}

static void loop_getsockopt(long n)
{
	int v;
	socklen_t len;

	for (long i = 0; i < n; i++) {
		len = sizeof(v);
		getsockopt(sock, IPPROTO_IP, IP_FREEBIND, &v, &len);
	}
}

static void loop_getsockopt_tos(long n)
{
	int v;
	socklen_t len;

	for (long i = 0; i < n; i++) {
		len = sizeof(v);
		getsockopt(sock, IPPROTO_IP, IP_TOS, &v, &len);
	}
}

// A level no protocol knows (sockopt_custom's): the kernel refuses both
// calls, unless a program answers them.
static void loop_custom_sockopt(long n)
{
	unsigned char note = 0x2a;
	socklen_t len;

	for (long i = 0; i < n; i++) {
		setsockopt(sock, 0x7079, 1, &note, 1);
		len = 1;
		getsockopt(sock, 0x7079, 1, &note, &len);
	}
}

// net.* sysctls are written, and lo is brought up, only in a network
// namespace of our own, which vanishes with the process.
static void private_netns(void)
{
	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET)");
}

static const char rmem[] = "4096 131072 6291456";   // ascending: let through

static void setup_sysctl_write(int fd)
{
	(void)fd;
	private_netns();
	file = open("/proc/sys/net/ipv4/tcp_rmem", O_WRONLY);
	if (file < 0)
		die("open tcp_rmem");
}

static void loop_sysctl_write(long n)
{
	for (long i = 0; i < n; i++)
		if (pwrite(file, rmem, sizeof(rmem) - 1, 0) < 0)
			die("pwrite tcp_rmem");
}

static void setup_none(int fd)
{
	(void)fd;
}

static void loop_socket_close(long n)
{
	for (long i = 0; i < n; i++)
		close(udp_socket());
}

static void loop_bind4(long n)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (long i = 0; i < n; i++) {
		int s = udp_socket();

		if (bind(s, (struct sockaddr *)&a, sizeof(a)))
			die("bind");
		close(s);
	}
}

static void loop_bind6(long n)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = 0};

	a.sin6_addr = in6addr_loopback;
	for (long i = 0; i < n; i++) {
		int s = socket(AF_INET6, SOCK_DGRAM, 0);

		if (s < 0)
			die("socket");
		if (bind(s, (struct sockaddr *)&a, sizeof(a)))
			die("bind");
		close(s);
	}
}

// A sysctl the programs let through; pread re-reads it from the start,
// and every read(2) of a sysctl runs the hook once.
static void setup_sysctl_read(int fd)
{
	(void)fd;
	file = open("/proc/sys/net/ipv4/ip_default_ttl", O_RDONLY);
	if (file < 0)
		die("open sysctl");
}

static void loop_sysctl_read(long n)
{
	char buf[32];

	for (long i = 0; i < n; i++)
		if (pread(file, buf, sizeof(buf), 0) < 0)
			die("pread sysctl");
}

// sock receives, peer sends to it.
static void connect_peer(void)
{
	struct sockaddr_in to;
	socklen_t len = sizeof(to);

	peer = udp_socket();
	if (getsockname(sock, (struct sockaddr *)&to, &len) ||
	    connect(peer, (struct sockaddr *)&to, sizeof(to)))
		die("connect");
}

// FD: a bound UDP socket, with or without a socket filter.
static void setup_send_recv(int rx)
{
	sock = rx;
	connect_peer();
}

static void loop_send_recv(long n)
{
	char payload[64] = {0}, buf[64];

	for (long i = 0; i < n; i++) {
		if (send(peer, payload, sizeof(payload), 0) < 0)
			die("send");
		if (recv(sock, buf, sizeof(buf), 0) < 0)
			die("recv");
	}
}

// Loopback traffic seen by a packet socket on lo (with the filter when a
// program fd is given), in a private netns so no one else's frames count.
static void setup_packet_lo(int prog)
{
	struct ifreq ifr = {0};
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	struct sockaddr_in to = {.sin_family = AF_INET};
	int s, packets;

	private_netns();
	s = udp_socket();
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		die("SIOCSIFFLAGS lo");
	close(s);
	packets = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	ll.sll_ifindex = if_nametoindex("lo");
	if (packets < 0 || bind(packets, (struct sockaddr *)&ll, sizeof(ll)))
		die("packet socket on lo");
	if (prog >= 0 && setsockopt(packets, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(prog)))
		die("SO_ATTACH_BPF");
	sock = udp_socket();
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(sock, (struct sockaddr *)&to, sizeof(to)))
		die("bind");
	connect_peer();
}

static const struct op {
	const char *name;
	void (*setup)(int fd);
	void (*loop)(long n);
} ops[] = {
	{"setsockopt", setup_udp, loop_setsockopt},
	{"getsockopt", setup_udp, loop_getsockopt},
	{"getsockopt_tos", setup_udp, loop_getsockopt_tos},
	{"custom_sockopt", setup_udp, loop_custom_sockopt},
	{"socket_close", setup_none, loop_socket_close},
	{"bind4", setup_none, loop_bind4},
	{"bind6", setup_none, loop_bind6},
	{"sysctl_read", setup_sysctl_read, loop_sysctl_read},
	{"sysctl_write", setup_sysctl_write, loop_sysctl_write},
	{"send_recv", setup_send_recv, loop_send_recv},
	{"packet_lo", setup_packet_lo, loop_send_recv},
};

static const struct op *find_op(const char *name)
{
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (!strcmp(ops[k].name, name))
			return &ops[k];
	fprintf(stderr, "loadgen: unknown op %s\n", name);
	exit(2);
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
