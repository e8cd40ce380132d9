// Twin of examples/readlat.py: read(2) latency of one process, log2 histogram.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 target = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} started SEC(".maps");

// Bucket 0: below 0, 1: zero, 1 + bit length of v otherwise.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 66);
	__type(key, __u32);
	__type(value, __u64);
} read_ns_hist SEC(".maps");

// The number of bits v needs (0 for 0), by halving the range.
static __always_inline __u32 bit_length(__u64 v)
{
	__u32 n = 0;

	if (v >> 32) { n += 32; v >>= 32; }
	if (v >> 16) { n += 16; v >>= 16; }
	if (v >> 8) { n += 8; v >>= 8; }
	if (v >> 4) { n += 4; v >>= 4; }
	if (v >> 2) { n += 2; v >>= 2; }
	if (v >> 1) { n += 1; v >>= 1; }
	return n + (__u32)v;
}

SEC("tracepoint/syscalls/sys_enter_read")
int enter_read(void *ctx)
{
	__u64 ids = bpf_get_current_pid_tgid();

	if ((__u32)(ids >> 32) == target) {
		__u32 tid = (__u32)ids;
		__u64 now = bpf_ktime_get_ns();
		bpf_map_update_elem(&started, &tid, &now, BPF_ANY);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int exit_read(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *start = bpf_map_lookup_elem(&started, &tid);

	if (start) {
		__u64 ns = bpf_ktime_get_ns() - *start;
		__u32 bucket = 1 + bit_length(ns);
		__u64 *count = bpf_map_lookup_elem(&read_ns_hist, &bucket);
		if (count)
			__sync_fetch_and_add(count, 1);
		bpf_map_delete_elem(&started, &tid);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
