// cgroup_skb programs for the runtime's packet tests: count the packets
// and bytes a cgroup sends and receives, and drop egress UDP to port 9 (a
// cgroup_skb packet starts at the IP header).
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} traffic SEC(".maps");

static __always_inline void add(__u32 key, __u64 amount)
{
	__u64 *v = bpf_map_lookup_elem(&traffic, &key);

	if (v)
		__sync_fetch_and_add(v, amount);
}

SEC("cgroup_skb/ingress")
int count_in(struct __sk_buff *skb)
{
	add(0, 1);
	add(1, skb->len);
	return 1;
}

SEC("cgroup_skb/egress")
int drop_discard(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data;
	struct udphdr *udp = (void *)(ip + 1);

	add(2, 1);
	add(3, skb->len);
	if ((void *)(udp + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return 1;
	return udp->dest == bpf_htons(9) ? 0 : 1;
}

char LICENSE[] SEC("license") = "GPL";
