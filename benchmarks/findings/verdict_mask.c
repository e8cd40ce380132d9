// Twin of verdict_mask.py.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/post_bind4")
int bound_somewhere(struct bpf_sock *ctx)
{
	return ctx->src_ip4 != 0 || ctx->src_port != 0;
}

char LICENSE[] SEC("license") = "GPL";
