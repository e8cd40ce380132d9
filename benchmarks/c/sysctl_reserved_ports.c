// Twin of benchmarks/programs/sysctl_reserved_ports.py: writes to
// net.ipv4.ip_local_reserved_ports ("8080,9000-9010") must name ports of at
// least FLOOR, ascending ranges, at most MAX_ITEMS items and MAX_PORTS ports.
#include "sysctl_text.h"

#define BASE_NAME 1
#define FLOOR 1024
#define TOP 65535
#define MAX_ITEMS 6
#define MAX_PORTS 4096
#define TEXT 64

__u64 reserved_ports = 0;
__u64 refused = 0;

const char wanted[24] = "ip_local_reserved_ports";   // with its NUL

// text[pos], 0 past the end (the Python program's bounds-checked index).
static unsigned char at(const char *text, unsigned long pos)
{
	return pos < TEXT ? (unsigned char)text[pos] : 0;
}

SEC("cgroup/sysctl")
int check_reserved_ports(struct bpf_sysctl *ctx)
{
	char name[32] = {};
	char text[2 * TEXT] = {};
	unsigned long low, high, ports = 0;
	unsigned long pos = 0;   // below 2 * TEXT: no u32 wrap to mimic
	long size, length;

	if (!ctx->write)
		return 1;
	if (bpf_sysctl_get_name(ctx, name, sizeof(name), BASE_NAME) <= 0 ||
	    !starts_with(name, wanted, sizeof(wanted)))
		return 1;
	size = bpf_sysctl_get_new_value(ctx, text, TEXT);
	if (size <= 0)
		goto refuse;
	for (int item = 0; item < MAX_ITEMS; item++) {
		length = parse(text, TEXT, pos, &low);
		if (length <= 0)
			break;            // the end of the list (or nothing at all)
		pos += length;
		high = low;
		if (at(text, pos) == '-') {
			length = parse(text, TEXT, pos + 1, &high);
			if (length <= 0)
				goto refuse;  // "8080-"
			pos += 1 + length;
		}
		if (low < FLOOR || high > TOP || high < low)
			goto refuse;
		ports += high - low + 1;
		if (at(text, pos) != ',')
			break;
		pos += 1;
	}
	if (ports == 0 || ports > MAX_PORTS || (pos < (__u32)size && at(text, pos) > ' '))
		goto refuse;          // empty, too many, or something left over
	reserved_ports = ports;
	return 1;
refuse:
	refused += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
