// Twin of optval_each_access.py: the verifier makes the C programmer test
// the length once; the reads past the end that give 0 in Python change
// nothing here either.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/setsockopt")
int clamp(struct bpf_sockopt *ctx)
{
	__u32 *optval = ctx->optval;

	if ((void *)(optval + 2) > ctx->optval_end)
		return 1;
	if (optval[0] != 0 && optval[1] > 5)
		optval[1] = 5;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
