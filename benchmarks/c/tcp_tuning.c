// Twin of examples/tcp_tuning.py: established connections switch to
// "reno" and ask for the RTT callback; calls counts the calls per op.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOL_TCP 6
#define TCP_CONGESTION 13

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

__s64 tuning_error = 0;

SEC("sockops")
int tcp_tuning(struct bpf_sock_ops *ctx)
{
	__u32 op = ctx->op;
	__u64 *seen = bpf_map_lookup_elem(&calls, &op);

	if (!seen) {
		__u64 one = 1;

		bpf_map_update_elem(&calls, &op, &one, BPF_ANY);
	} else {
		__sync_fetch_and_add(seen, 1);
	}
	if (op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB || op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
		char name[4] = "reno";
		long result = bpf_setsockopt(ctx, SOL_TCP, TCP_CONGESTION, name, sizeof(name));

		if (result != 0)
			tuning_error = result;
		bpf_sock_ops_cb_flags_set(ctx, ctx->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_RTT_CB_FLAG);
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
