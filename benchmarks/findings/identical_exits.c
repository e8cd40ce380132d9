// Twin of identical_exits.py.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 refused = 0;
__u64 last_position = 0;

SEC("cgroup/sysctl")
int guard(struct bpf_sysctl *ctx)
{
	if (ctx->write == 0) {
		refused += 1;
		return 0;
	}
	if (ctx->file_pos > 10) {
		refused += 1;
		return 0;
	}
	last_position = ctx->file_pos;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
