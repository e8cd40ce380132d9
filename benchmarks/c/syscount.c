// Twin of examples/syscount.py: system calls per process and number.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// (tgid << 32 | syscall number) -> calls
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} calls SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int count(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 key = (bpf_get_current_pid_tgid() >> 32) << 32 | (ctx->args[1] & 0xFFFFFFFF);
	__u64 *seen = bpf_map_lookup_elem(&calls, &key);

	if (!seen) {
		__u64 one = 1;
		bpf_map_update_elem(&calls, &key, &one, BPF_ANY);
	} else {
		__sync_fetch_and_add(seen, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
