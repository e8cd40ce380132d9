// Twin of benchmarks/programs/sysctl_port_range.py: writes to
// net.ipv4.ip_local_port_range must hold two numbers, FLOOR <= low,
// high <= 65535, at least MIN_PORTS apart, and nothing more.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define BASE_NAME 1
#define FLOOR 1024
#define TOP 65535
#define MIN_PORTS 1000
#define TEXT 32
#define EINVAL 22

__u64 accepted_low = 0;
__u64 accepted_high = 0;
__u64 refused = 0;

// Global, so it lands in .rodata (a static one would go to .rodata.str1.1,
// which the runtime does not load).
const char wanted[20] = "ip_local_port_range";   // with its NUL

// No memcmp on BPF; kept a loop for the reason sysctl_by_name.c gives.
static int starts_with_wanted(const char *name)
{
#pragma clang loop unroll(disable)
	for (unsigned int i = 0; i < sizeof(wanted); i++)
		if (name[i] != wanted[i])
			return 0;
	return 1;
}

// strtoul from pos on, as the Python program's strtoul(): an offset at or
// past the end gives -EINVAL without a call.  The verifier checks the
// largest offset with the largest length, so text is 2 * TEXT zeroed bytes.
static long parse(char *text, unsigned long pos, unsigned long *value)
{
	if (pos >= TEXT)
		return -EINVAL;
	return bpf_strtoul(text + pos, TEXT - pos, 10, value);
}

SEC("cgroup/sysctl")
int port_range(struct bpf_sysctl *ctx)
{
	char name[24] = {};
	char text[2 * TEXT] = {};
	unsigned long low, high, extra, pos;
	long length;

	if (!ctx->write)
		return 1;
	if (bpf_sysctl_get_name(ctx, name, sizeof(name), BASE_NAME) <= 0 ||
	    !starts_with_wanted(name))
		return 1;
	if (bpf_sysctl_get_new_value(ctx, text, TEXT) <= 0)
		goto refuse;
	length = parse(text, 0, &low);
	if (length <= 0)
		goto refuse;
	pos = length;
	length = parse(text, pos, &high);
	if (length <= 0)
		goto refuse;
	pos += length;
	if (parse(text, pos, &extra) > 0 || low < FLOOR || high > TOP ||
	    high < low + MIN_PORTS)
		goto refuse;
	accepted_low = low;
	accepted_high = high;
	return 1;
refuse:
	refused += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
