// Twin of optval_refused.py.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/getsockopt")
int four_stores(struct bpf_sockopt *ctx)
{
	__u32 *optval = ctx->optval;

	if ((void *)(optval + 4) > ctx->optval_end)
		return 1;
	optval[0] = 1;
	optval[1] = 2;
	optval[2] = 3;
	optval[3] = 4;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
