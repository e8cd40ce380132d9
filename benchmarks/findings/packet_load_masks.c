// Twin of packet_load_masks.py.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

SEC("socket")
int labels(struct __sk_buff *skb)
{
	__u32 pos = 54, total = 0;

	for (int i = 0; i < 4; i++) {
		__u32 length = load_byte(skb, pos);

		if (length == 0)
			break;
		pos += length + 1;
		total += length;
	}
	return total;
}

char LICENSE[] SEC("license") = "GPL";
