// Twin of examples/profile.py: CPU clock samples per process, kernel or user.
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <bpf/bpf_helpers.h>

// Where kernel addresses begin (x86_64).
#define KERNEL_START 0xFFFF800000000000ULL

// (tgid << 1 | in_kernel) -> samples
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} samples SEC(".maps");

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	__u64 key = bpf_get_current_pid_tgid() >> 32 << 1;
	__u64 *seen;

	if (ctx->regs.rip >= KERNEL_START)
		key |= 1;
	seen = bpf_map_lookup_elem(&samples, &key);
	if (!seen) {
		__u64 one = 1;
		bpf_map_update_elem(&samples, &key, &one, BPF_ANY);
	} else {
		__sync_fetch_and_add(seen, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
