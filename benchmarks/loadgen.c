// Load generator for the hook-cost benchmark: makes one guarded syscall
// (or a short fixed sequence) ITERS times in a tight loop and prints the
// mean nanoseconds per iteration.  The benchmark runs it inside a cgroup
// (or with a socket it was handed) with or without a program attached.
//
//   loadgen OP ITERS [FD]
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
#include <time.h>
#include <unistd.h>

static long iters;

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

// Each op runs n iterations; failures of the guarded call itself are the
// program's business and are not checked, everything else is.
static void op_setsockopt(long n, int fd)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), tos = 0x10;

	(void)fd;
	if (s < 0)
		die("socket");
	for (long i = 0; i < n; i++)
		setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	close(s);
}

static void op_getsockopt(long n, int fd)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), v;
	socklen_t len;

	(void)fd;
	if (s < 0)
		die("socket");
	for (long i = 0; i < n; i++) {
		len = sizeof(v);
		getsockopt(s, IPPROTO_IP, IP_FREEBIND, &v, &len);
	}
	close(s);
}

static void op_getsockopt_tos(long n, int fd)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), v;
	socklen_t len;

	(void)fd;
	if (s < 0)
		die("socket");
	for (long i = 0; i < n; i++) {
		len = sizeof(v);
		getsockopt(s, IPPROTO_IP, IP_TOS, &v, &len);
	}
	close(s);
}

// A level no protocol knows (sockopt_custom's): the kernel refuses both
// calls, unless a program answers them.
static void op_custom_sockopt(long n, int fd)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned char note = 0x2a;
	socklen_t len;

	(void)fd;
	if (s < 0)
		die("socket");
	for (long i = 0; i < n; i++) {
		setsockopt(s, 0x7079, 1, &note, 1);
		len = 1;
		getsockopt(s, 0x7079, 1, &note, &len);
	}
	close(s);
}

static int in_private_netns;

// net.* sysctls are written, and lo is brought up, only in a network
// namespace of our own, which vanishes with the process.
static void private_netns(void)
{
	if (in_private_netns)
		return;
	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET)");
	in_private_netns = 1;
}

static void op_sysctl_write(long n, int fd)
{
	static const char value[] = "4096 131072 6291456";   // ascending: let through
	int f;

	(void)fd;
	private_netns();
	f = open("/proc/sys/net/ipv4/tcp_rmem", O_WRONLY);
	if (f < 0)
		die("open tcp_rmem");
	for (long i = 0; i < n; i++)
		if (pwrite(f, value, sizeof(value) - 1, 0) < 0)
			die("pwrite tcp_rmem");
	close(f);
}

static void op_socket_close(long n, int fd)
{
	(void)fd;
	for (long i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);

		if (s < 0)
			die("socket");
		close(s);
	}
}

static void op_bind4(long n, int fd)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};

	(void)fd;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (long i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);

		if (s < 0)
			die("socket");
		if (bind(s, (struct sockaddr *)&a, sizeof(a)))
			die("bind");
		close(s);
	}
}

static void op_bind6(long n, int fd)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = 0};

	(void)fd;
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

static void op_sysctl_read(long n, int fd)
{
	// A sysctl the programs let through; pread re-reads it from the start,
	// and every read(2) of a sysctl runs the hook once.
	int f = open("/proc/sys/net/ipv4/ip_default_ttl", O_RDONLY);
	char buf[32];

	(void)fd;
	if (f < 0)
		die("open sysctl");
	for (long i = 0; i < n; i++)
		if (pread(f, buf, sizeof(buf), 0) < 0)
			die("pread sysctl");
	close(f);
}

static void op_send_recv(long n, int rx)
{
	struct sockaddr_in to;
	socklen_t len = sizeof(to);
	char payload[64] = {0}, buf[64];
	int tx = socket(AF_INET, SOCK_DGRAM, 0);

	if (tx < 0)
		die("socket");
	if (getsockname(rx, (struct sockaddr *)&to, &len))
		die("getsockname");
	if (connect(tx, (struct sockaddr *)&to, sizeof(to)))
		die("connect");
	for (long i = 0; i < n; i++) {
		if (send(tx, payload, sizeof(payload), 0) < 0)
			die("send");
		if (recv(rx, buf, sizeof(buf), 0) < 0)
			die("recv");
	}
	close(tx);
}

static int packet_socket = -1;

// Loopback traffic seen by a packet socket on lo (with the filter when a
// program fd is given), in a private netns so no one else's frames count.
static void op_packet_lo(long n, int prog)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	socklen_t len = sizeof(to);
	char payload[64] = {0}, buf[64];
	int rx, tx;

	if (packet_socket < 0) {
		struct ifreq ifr = {0};
		struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
		int s;

		private_netns();
		s = socket(AF_INET, SOCK_DGRAM, 0);
		strcpy(ifr.ifr_name, "lo");
		if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
			die("SIOCGIFFLAGS lo");
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			die("SIOCSIFFLAGS lo");
		close(s);
		packet_socket = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
		ll.sll_ifindex = if_nametoindex("lo");
		if (packet_socket < 0 || bind(packet_socket, (struct sockaddr *)&ll, sizeof(ll)))
			die("packet socket on lo");
		if (prog >= 0 && setsockopt(packet_socket, SOL_SOCKET, SO_ATTACH_BPF, &prog,
					    sizeof(prog)))
			die("SO_ATTACH_BPF");
	}
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&to, sizeof(to)))
		die("udp sockets");
	if (getsockname(rx, (struct sockaddr *)&to, &len) ||
	    connect(tx, (struct sockaddr *)&to, sizeof(to)))
		die("connect");
	for (long i = 0; i < n; i++) {
		if (send(tx, payload, sizeof(payload), 0) < 0)
			die("send");
		if (recv(rx, buf, sizeof(buf), 0) < 0)
			die("recv");
	}
	close(rx);
	close(tx);
}

static const struct {
	const char *name;
	void (*run)(long, int);
} ops[] = {
	{"setsockopt", op_setsockopt},   {"getsockopt", op_getsockopt},
	{"socket_close", op_socket_close}, {"bind4", op_bind4},
	{"bind6", op_bind6},             {"sysctl_read", op_sysctl_read},
	{"send_recv", op_send_recv},     {"getsockopt_tos", op_getsockopt_tos},
	{"custom_sockopt", op_custom_sockopt}, {"sysctl_write", op_sysctl_write},
	{"packet_lo", op_packet_lo},
};

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: loadgen OP ITERS [FD]\n");
		return 2;
	}
	iters = atol(argv[2]);
	int fd = argc > 3 ? atoi(argv[3]) : -1;

	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		if (strcmp(ops[k].name, argv[1]))
			continue;
		ops[k].run(iters / 10 + 1, fd);   // warm caches and allocators
		double start = now_ns();

		ops[k].run(iters, fd);
		printf("%.3f\n", (now_ns() - start) / iters);
		return 0;
	}
	fprintf(stderr, "loadgen: unknown op %s\n", argv[1]);
	return 2;
}
