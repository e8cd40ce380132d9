// Twin of examples/sysctl_guard.py: reads go through, writes are refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 reads = 0;
__u64 writes_refused = 0;

SEC("cgroup/sysctl")
int guard(struct bpf_sysctl *ctx)
{
	if (!ctx->write) {
		reads += 1;
		return 1;
	}
	if (ctx->file_pos != 0) {
		writes_refused += 1;
		return 0;
	}
	ctx->file_pos = 0;
	writes_refused += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
