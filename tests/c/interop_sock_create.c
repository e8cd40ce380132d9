// cgroup/sock_create: refuse datagram sockets, counting the sockets allowed
// and refused per socket type in an array map with a struct value.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOCK_DGRAM 2

struct verdicts {
	__u64 allowed;
	__u64 refused;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct verdicts);
} by_type SEC(".maps");

SEC("cgroup/sock_create")
int no_dgram(struct bpf_sock *sk)
{
	__u32 type = sk->type;
	int refuse = type == SOCK_DGRAM;
	struct verdicts *v = bpf_map_lookup_elem(&by_type, &type);

	if (v) {
		if (refuse)
			__sync_fetch_and_add(&v->refused, 1);
		else
			__sync_fetch_and_add(&v->allowed, 1);
	}
	return refuse ? 0 : 1;
}

char LICENSE[] SEC("license") = "GPL";
