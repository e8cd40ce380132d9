// bpf-to-bpf calls: socket filters calling static noinline subprograms in
// .text (one of which calls another without a relocation, and touches a
// global), two programs sharing the "socket" section, a "socket/<name>"
// section, and a callback passed by address (ld_imm64 of a .text function).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 seen = 0;

static __noinline __u32 clamp_len(__u32 len, __u32 limit)
{
	seen++;
	if (len > limit)
		return limit;
	return len;
}

static __noinline __u32 twice(__u32 x)
{
	return clamp_len(x, 1000) * 2;
}

static int add_index(__u32 index, void *ctx)
{
	*(__u64 *)ctx += index;
	return 0;
}

SEC("socket")
int keep_short(struct __sk_buff *skb)
{
	return clamp_len(skb->len, 64);
}

SEC("socket/second")
int keep_twice(struct __sk_buff *skb)
{
	return twice(skb->len);
}

SEC("socket")
int sum_loop(struct __sk_buff *skb)
{
	__u64 sum = 0;

	bpf_loop(4, add_index, &sum, 0);
	return sum + clamp_len(skb->len, 8);
}

char _license[] SEC("license") = "GPL";
