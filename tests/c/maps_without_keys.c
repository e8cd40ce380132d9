// Maps that hold no entries to list: a bloom filter (sock_create adds each
// new socket's protocol to it) and a perf event array declared without
// max_entries, which the loader sizes to the possible CPUs as libbpf does.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
} protocols SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("cgroup/sock_create")
int note_protocol(struct bpf_sock *ctx)
{
	__u32 protocol = ctx->protocol;

	bpf_map_push_elem(&protocols, &protocol, BPF_ANY);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &protocol, sizeof(protocol));
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
