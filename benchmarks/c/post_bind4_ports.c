// Twin of examples/post_bind4_ports.py: refuse IPv4 binds to ports
// 4000..4010, and to port 0 on 127.0.0.2.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define RESERVED_LOW 4000
#define RESERVED_HIGH 4010
#define LOOPBACK_2 0x7F000002

SEC("cgroup/post_bind4")
int reserved_ports(struct bpf_sock *ctx)
{
	if (ctx->src_port >= RESERVED_LOW && ctx->src_port <= RESERVED_HIGH)
		return 0;
	return bpf_ntohl(ctx->src_ip4) != LOOPBACK_2 || ctx->src_port != 0;
}

char LICENSE[] SEC("license") = "GPL";
