// Twin of examples/cgroup_skb_loopback_only.py: the cgroup's sockets send
// to loopback only (127.0.0.0/8, ::1); received packets are counted.
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

__u64 refused = 0;
__u64 received = 0;

SEC("cgroup_skb/egress")
int loopback_only(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data;
	if ((void *)(ip + 1) > data_end)
		return 0;
	if (ip->version == 4) {
		if ((ip->daddr & bpf_htonl(0xFF000000)) == bpf_htonl(0x7F000000))
			return 1;
	} else {
		struct ipv6hdr *ip6 = data;
		if ((void *)(ip6 + 1) > data_end)
			return 0;
		if (ip6->daddr.s6_addr32[0] == 0 && ip6->daddr.s6_addr32[1] == 0 &&
		    ip6->daddr.s6_addr32[2] == 0 && ip6->daddr.s6_addr32[3] == bpf_htonl(1))
			return 1;
	}
	__sync_fetch_and_add(&refused, 1);
	return 0;
}

SEC("cgroup_skb/ingress")
int count_received(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&received, 1);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
