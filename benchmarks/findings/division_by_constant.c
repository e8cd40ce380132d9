// Twin of division_by_constant.py.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int whole_kilobytes(struct __sk_buff *skb)
{
	return (skb->len + 999) / 1000 * 1000;
}

char LICENSE[] SEC("license") = "GPL";
