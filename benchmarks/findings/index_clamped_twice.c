// Twin of index_clamped_twice.py: text[pos] is 0 past the end.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/sysctl")
int ends_in_newline(struct bpf_sysctl *ctx)
{
	unsigned char text[16] = {};
	long size = bpf_sysctl_get_new_value(ctx, text, sizeof(text));
	__u32 pos;

	if (size <= 0)
		return 1;
	pos = (__u32)size - 1;
	return pos < sizeof(text) && text[pos] == '\n';
}

char LICENSE[] SEC("license") = "GPL";
