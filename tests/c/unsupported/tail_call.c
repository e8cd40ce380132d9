// A program array filled with a program at load time (tail calls), which
// pybpfc's runtime does not support.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int tail_target(struct __sk_buff *skb)
{
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int (void *));
} jump_table SEC(".maps") = {
	.values = { [0] = (void *)&tail_target },
};

SEC("socket")
int tail_caller(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jump_table, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
