// Twin of examples/sock_release_count.py: count released TCP and UDP sockets.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

__u64 tcp_released = 0;
__u64 udp_released = 0;

SEC("cgroup/sock_release")
int count_release(struct bpf_sock *ctx)
{
	if (ctx->protocol == IPPROTO_TCP)
		tcp_released += 1;
	else if (ctx->protocol == IPPROTO_UDP)
		udp_released += 1;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
