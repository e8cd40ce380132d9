// Twin of optval_after_length_test.py.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/getsockopt")
int fill(struct bpf_sockopt *ctx)
{
	__u32 *optval = ctx->optval;

	if ((void *)(optval + 3) > ctx->optval_end)
		return 1;
	optval[2] = 3;
	optval[1] = 2;
	optval[0] = 1;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
