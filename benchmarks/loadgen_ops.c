// The load generator's operations (see loadgen.h): what each timed loop
// does, for every scenario in scenarios.py.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"

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

// sockopt_option_cache: an option it caches, then its one-call answer
// (a level the kernel does not know).
static void loop_option_cache(long n)
{
	int tos = 0x2b;
	unsigned int all[4];
	socklen_t len;

	for (long i = 0; i < n; i++) {
		setsockopt(sock, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
		len = sizeof(all);
		getsockopt(sock, 0x6f63, 1, all, &len);
	}
}

// sockopt_linger_clamp: a linger the program cuts down to its maximum.
static void loop_linger(long n)
{
	struct linger linger = {.l_onoff = 1, .l_linger = 30};

	for (long i = 0; i < n; i++)
		setsockopt(sock, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
}

// sockopt_buffer_budget: a receive buffer within the budget, read back.
static void loop_buffer_budget(long n)
{
	int size = 65536, got;
	socklen_t len;

	for (long i = 0; i < n; i++) {
		setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		len = sizeof(got);
		getsockopt(sock, SOL_SOCKET, SO_RCVBUF, &got, &len);
	}
}

// getsockopt_tcp_info: TCP_INFO of an established connection over
// 127.0.0.1 (sock is the client's end; the accepted one stays open).
static void setup_tcp_info(int fd)
{
	struct sockaddr_in at = {.sin_family = AF_INET};
	socklen_t len = sizeof(at);
	int listener;

	(void)fd;
	at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || sock < 0 || bind(listener, (struct sockaddr *)&at, sizeof(at)) ||
	    listen(listener, 1) || getsockname(listener, (struct sockaddr *)&at, &len) ||
	    connect(sock, (struct sockaddr *)&at, sizeof(at)))
		die("TCP connection over lo");
	peer = accept(listener, NULL, NULL);
	if (peer < 0)
		die("accept");
	close(listener);
}

static void loop_tcp_info(long n)
{
	struct tcp_info info;
	socklen_t len;

	for (long i = 0; i < n; i++) {
		len = sizeof(info);
		getsockopt(sock, IPPROTO_TCP, TCP_INFO, &info, &len);
	}
}

// net.* sysctls are written, and lo is brought up, only in a network
// namespace of our own, which vanishes with the process.
static void private_netns(void)
{
	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET)");
}

// A sysctl write the programs let through: the op's setup opens the file
// in a private netns and names the value its loop writes again and again.
static const char *sysctl_value;

static void open_for_writing(const char *path, const char *value)
{
	private_netns();
	file = open(path, O_WRONLY);
	if (file < 0)
		die(path);
	sysctl_value = value;
}

static void loop_sysctl_write(long n)
{
	size_t len = strlen(sysctl_value);

	for (long i = 0; i < n; i++)
		if (pwrite(file, sysctl_value, len, 0) < 0)
			die("pwrite sysctl");
}

static void setup_write_tcp_rmem(int fd)
{
	(void)fd;
	open_for_writing("/proc/sys/net/ipv4/tcp_rmem", "4096 131072 6291456");
}

static void setup_write_tcp_wmem(int fd)
{
	(void)fd;
	open_for_writing("/proc/sys/net/ipv4/tcp_wmem", "4096 16384 4194304");
}

static void setup_write_port_range(int fd)
{
	(void)fd;
	open_for_writing("/proc/sys/net/ipv4/ip_local_port_range", "32768 60999");
}

static void setup_write_reserved_ports(int fd)
{
	(void)fd;
	open_for_writing("/proc/sys/net/ipv4/ip_local_reserved_ports", "8080,9000-9010");
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

// sock receives, peer sends to it: a datagram socket of sock's family
// connected to sock's address.
static void connect_peer(void)
{
	struct sockaddr_storage to;
	socklen_t len = sizeof(to);

	if (getsockname(sock, (struct sockaddr *)&to, &len))
		die("getsockname");
	peer = socket(to.ss_family, SOCK_DGRAM, 0);
	if (peer < 0 || connect(peer, (struct sockaddr *)&to, len))
		die("connect");
}

// FD: a bound UDP socket, with or without a socket filter.
static void setup_send_recv(int rx)
{
	sock = rx;
	connect_peer();
}

// What send_recv's loop sends: 64 zero bytes unless the setup says otherwise.
static const unsigned char *payload = (const unsigned char[64]){0};
static size_t payload_len = 64;

static void loop_send_recv(long n)
{
	char buf[256];

	for (long i = 0; i < n; i++) {
		if (send(peer, payload, payload_len, 0) < 0)
			die("send");
		// MSG_WAITALL: a TCP receiver waits for the whole payload.
		if (recv(sock, buf, payload_len, MSG_WAITALL) < 0)
			die("recv");
	}
}

// Loopback traffic seen by a packet socket on lo (with the filter when a
// program fd is given), in a private netns so no one else's frames count.
static void packet_socket_on_lo(int prog)
{
	struct ifreq ifr = {0};
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
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
}

static void bind_udp4(int port)
{
	struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(port)};

	at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sock = udp_socket();
	if (bind(sock, (struct sockaddr *)&at, sizeof(at)))
		die("bind");
	connect_peer();
}

// UDP over 127.0.0.1 to an ephemeral port.
static void setup_packet_lo(int prog)
{
	packet_socket_on_lo(prog);
	bind_udp4(0);
}

// A DNS query for "example.com", type A, to 127.0.0.1:53.
static const unsigned char dns_query[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x01, 0x00, 0x01,
};

static void setup_packet_lo_dns(int prog)
{
	packet_socket_on_lo(prog);
	bind_udp4(53);
	payload = dns_query;
	payload_len = sizeof(dns_query);
}

// UDP over [::1] to an ephemeral port.
static void setup_packet_lo6(int prog)
{
	struct sockaddr_in6 at = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};

	packet_socket_on_lo(prog);
	sock = socket(AF_INET6, SOCK_DGRAM, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&at, sizeof(at)))
		die("bind [::1]");
	connect_peer();
}

// A TCP connection over 127.0.0.1: peer is the client, sock the server's end.
static void setup_packet_lo_tcp(int prog)
{
	struct sockaddr_in at = {.sin_family = AF_INET};
	socklen_t len = sizeof(at);
	int listener;

	packet_socket_on_lo(prog);
	at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	peer = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || peer < 0 || bind(listener, (struct sockaddr *)&at, sizeof(at)) ||
	    listen(listener, 1) || getsockname(listener, (struct sockaddr *)&at, &len) ||
	    connect(peer, (struct sockaddr *)&at, sizeof(at)))
		die("TCP connection over lo");
	sock = accept(listener, NULL, NULL);
	if (sock < 0)
		die("accept");
	close(listener);
}

// Device and TCP-event cgroup hooks (issue 14 part B).

// Opening /dev/null read-only: one request to a cgroup device program.
static void loop_open_null(long n)
{
	for (long i = 0; i < n; i++) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd >= 0)
			close(fd);
	}
}

static const struct op ops[] = {
	{"setsockopt", setup_udp, loop_setsockopt},
	{"getsockopt", setup_udp, loop_getsockopt},
	{"getsockopt_tos", setup_udp, loop_getsockopt_tos},
	{"custom_sockopt", setup_udp, loop_custom_sockopt},
	{"option_cache", setup_udp, loop_option_cache},
	{"linger", setup_udp, loop_linger},
	{"buffer_budget", setup_udp, loop_buffer_budget},
	{"tcp_info", setup_tcp_info, loop_tcp_info},
	{"socket_close", setup_none, loop_socket_close},
	{"bind4", setup_none, loop_bind4},
	{"bind6", setup_none, loop_bind6},
	{"sysctl_read", setup_sysctl_read, loop_sysctl_read},
	{"sysctl_write", setup_write_tcp_rmem, loop_sysctl_write},
	{"write_tcp_wmem", setup_write_tcp_wmem, loop_sysctl_write},
	{"write_port_range", setup_write_port_range, loop_sysctl_write},
	{"write_reserved_ports", setup_write_reserved_ports, loop_sysctl_write},
	{"send_recv", setup_send_recv, loop_send_recv},
	{"packet_lo", setup_packet_lo, loop_send_recv},
	{"packet_lo_dns", setup_packet_lo_dns, loop_send_recv},
	{"packet_lo6", setup_packet_lo6, loop_send_recv},
	{"packet_lo_tcp", setup_packet_lo_tcp, loop_send_recv},
	// device and TCP-event cgroup hooks (issue 14 part B)
	{"open_null", setup_none, loop_open_null},
	{"tcp_send_recv", setup_tcp_info, loop_send_recv},
};

const struct op *find_op(const char *name)
{
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (!strcmp(ops[k].name, name))
			return &ops[k];
	fprintf(stderr, "loadgen: unknown op %s\n", name);
	exit(2);
}
