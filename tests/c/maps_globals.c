// A BTF-defined hash map with a struct value, and globals in .data, .bss and
// .rodata, used from two programs sharing one section (split by symbol).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct stats {
	__u64 packets;
	__u32 last_family;
	__s16 delta;
	unsigned char tag[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct stats);
} stats_by_proto SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

__u64 created = 0;                 /* .bss */
__u32 mark_to_set = 42;            /* .data */
__s32 bias = -7;                   /* .data */
const volatile __u32 allowed_family = 2;  /* .rodata */
const volatile __u8 verbose = 1;          /* .rodata */

SEC("cgroup/sock_create")
int count_create(struct bpf_sock *sk)
{
	__u32 proto = sk->protocol;
	struct stats *s = bpf_map_lookup_elem(&stats_by_proto, &proto);

	created++;
	if (s) {
		s->packets++;
		s->last_family = sk->family;
	} else {
		struct stats fresh = { .packets = 1, .last_family = sk->family, .delta = bias };
		bpf_map_update_elem(&stats_by_proto, &proto, &fresh, BPF_ANY);
	}
	if (sk->family != allowed_family)
		return 1;
	sk->mark = mark_to_set;
	return 1;
}

SEC("cgroup/sock_create")
int count_create_too(struct bpf_sock *sk)
{
	__u32 key = sk->family & 3;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v && verbose)
		__sync_fetch_and_add(v, 1);
	return 1;
}

SEC("cgroup/sock")
int legacy_alias(struct bpf_sock *sk)
{
	return sk->family != 0;
}

char _license[] SEC("license") = "GPL";
