// Twin of map_key_stored_twice.py.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("cgroup/sock_create")
int by_protocol(struct bpf_sock *ctx)
{
	__u32 key = ctx->protocol;
	__u64 *seen = bpf_map_lookup_elem(&counts, &key);

	if (!seen) {
		__u64 one = 1;

		bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
	} else {
		__sync_fetch_and_add(seen, 1);
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
