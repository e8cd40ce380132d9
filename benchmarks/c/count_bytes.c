// Twin of examples/count_bytes.py: count packets and bytes by size class,
// keep every packet whole.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 packets = 0;
__u64 total_bytes = 0;
__u64 by_size[4] = {};   // <128, <512, <1500, larger

SEC("socket")
int count_bytes(struct __sk_buff *skb)
{
	const __u32 limits[3] = {128, 512, 1500};
	__u32 size_class = 3;

	packets += 1;
	total_bytes += skb->len;
	for (int i = 0; i < 3; i++) {
		if (skb->len < limits[i]) {
			size_class = i;
			break;
		}
	}
	by_size[size_class] += 1;
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
