// Twin of benchmarks/programs/sysctl_port_range.py: writes to
// net.ipv4.ip_local_port_range must hold two numbers, FLOOR <= low,
// high <= 65535, at least MIN_PORTS apart, and nothing more.
#include "sysctl_text.h"

#define BASE_NAME 1
#define FLOOR 1024
#define TOP 65535
#define MIN_PORTS 1000
#define TEXT 32

__u64 accepted_low = 0;
__u64 accepted_high = 0;
__u64 refused = 0;

const char wanted[20] = "ip_local_port_range";   // with its NUL

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
	    !starts_with(name, wanted, sizeof(wanted)))
		return 1;
	if (bpf_sysctl_get_new_value(ctx, text, TEXT) <= 0)
		goto refuse;
	length = parse(text, TEXT, 0, &low);
	if (length <= 0)
		goto refuse;
	pos = length;
	length = parse(text, TEXT, pos, &high);
	if (length <= 0)
		goto refuse;
	pos += length;
	if (parse(text, TEXT, pos, &extra) > 0 || low < FLOOR || high > TOP ||
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
