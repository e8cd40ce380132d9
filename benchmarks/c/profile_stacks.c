// Twin of examples/profile_stacks.py: CPU clock samples per process and
// kernel and user stack.
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <bpf/bpf_helpers.h>

struct stack_key {
	__u32 pid;
	__s32 kernel_stack;
	__s32 user_stack;
};

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct stack_key);
	__type(value, __u64);
} counts SEC(".maps");

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	struct stack_key key = {};
	__u64 *seen;

	key.pid = bpf_get_current_pid_tgid() >> 32;
	key.kernel_stack = bpf_get_stackid(ctx, &stacks, 0);
	key.user_stack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	seen = bpf_map_lookup_elem(&counts, &key);
	if (!seen) {
		__u64 one = 1;
		bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
	} else {
		__sync_fetch_and_add(seen, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
