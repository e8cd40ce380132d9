// Twin of helper_buffer_zeroed.py.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int ttl_above_one(struct __sk_buff *skb)
{
	__u8 header[20];

	if (bpf_skb_load_bytes(skb, 14, header, sizeof(header)) < 0 || header[8] <= 1)
		return 0;
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
