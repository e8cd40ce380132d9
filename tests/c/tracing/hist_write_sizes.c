/* A log2 histogram kept as runtime/histogram.py documents it: the sizes
 * the watched process passes to the counted system call (write(2)'s third
 * argument, read from the user registers with CO-RE), one u64 count per
 * bucket: 0 for values below 0, 1 for 0, k >= 2 for [2^(k-2), 2^(k-1)). */
#include "common.h"
#include <bpf/bpf_core_read.h>

volatile __u64 counted_syscall;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 66);
	__type(key, __u32);
	__type(value, __u64);
} sizes SEC(".maps");

static __always_inline __u32 log2_bucket(__s64 value)
{
	__u64 rest = value;
	__u32 bucket = 2;

	if (value < 0)
		return 0;
	if (value == 0)
		return 1;
	for (int i = 0; i < 63 && rest > 1; i++) {
		rest >>= 1;
		bucket++;
	}
	return bucket;
}

SEC("raw_tracepoint/sys_enter")
int count_sizes(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (void *)ctx->args[0];
	__u32 bucket;
	__u64 *count;

	if (!watched() || ctx->args[1] != counted_syscall)
		return 0;
	bucket = log2_bucket(BPF_CORE_READ(regs, dx));
	count = bpf_map_lookup_elem(&sizes, &bucket);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}
