// Twin of strtoul_value_slot.py.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TEXT 16

SEC("cgroup/sysctl")
int ordered(struct bpf_sysctl *ctx)
{
	char text[2 * TEXT] = {};
	unsigned long first, second, pos;
	long length;

	if (bpf_sysctl_get_new_value(ctx, text, TEXT) <= 0)
		return 1;
	length = bpf_strtoul(text, TEXT, 10, &first);
	if (length <= 0)
		return 1;
	pos = (__u32)length;
	if (pos >= TEXT)
		return 1;
	length = bpf_strtoul(text + pos, TEXT - pos, 10, &second);
	return length <= 0 || first < second;
}

char LICENSE[] SEC("license") = "GPL";
