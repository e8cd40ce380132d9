// A socket filter counting the packets and bytes its socket receives in an
// array map (0: packets, 1: bytes) and keeping every packet whole.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum { PACKETS = 0, BYTES = 1 };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} traffic SEC(".maps");

static __always_inline void add(__u32 key, __u64 amount)
{
	__u64 *v = bpf_map_lookup_elem(&traffic, &key);

	if (v)
		__sync_fetch_and_add(v, amount);
}

SEC("socket")
int count_traffic(struct __sk_buff *skb)
{
	add(PACKETS, 1);
	add(BYTES, skb->len);
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
