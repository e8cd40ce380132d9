// Twin of examples/post_bind6_ports.py: refuse IPv6 binds to even ports in
// 5000..5100, and binds of ::1 to port 5999.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ODD_ONLY_FROM 5000
#define ODD_ONLY_TO 5100

static int is_loopback6(__u32 w0, __u32 w1, __u32 w2, __u32 w3)
{
	return w0 == 0 && w1 == 0 && w2 == 0 && bpf_ntohl(w3) == 1;
}

SEC("cgroup/post_bind6")
int odd_ports(struct bpf_sock *ctx)
{
	__u32 port = ctx->src_port;

	if (port >= ODD_ONLY_FROM && port <= ODD_ONLY_TO && port % 2 == 0)
		return 0;
	if (port == 5999 && is_loopback6(ctx->src_ip6[0], ctx->src_ip6[1], ctx->src_ip6[2],
					 ctx->src_ip6[3]))
		return 0;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
