// Twin of benchmarks/programs/sysctl_tcp_wmem.py: writes to net.ipv4.tcp_wmem
// must hold three ascending numbers, a default of at least MIN_DEFAULT and a
// max at most GROWTH times the current one.
#include "sysctl_text.h"

#define BASE_NAME 1
#define MIN_DEFAULT 4096
#define GROWTH 4
#define TEXT 48

enum { ACCEPTED, MALFORMED, DISORDERED, TOO_LARGE };

struct Change {
	__u64 new_min;
	__u64 new_default;
	__u64 new_max;
	__u64 old_max;
};

__u64 outcomes[4] = {};
struct Change last = {};

const char wanted[9] = "tcp_wmem";   // with its NUL

SEC("cgroup/sysctl")
int guard_tcp_wmem(struct bpf_sysctl *ctx)
{
	char name[16] = {};
	char text[2 * TEXT] = {};
	unsigned long first, second, third, value, old_max = 0, pos = 0;
	long l1, l2, l3;

	if (!ctx->write)
		return 1;
	if (bpf_sysctl_get_name(ctx, name, sizeof(name), BASE_NAME) <= 0 ||
	    !starts_with(name, wanted, sizeof(wanted)))
		return 1;
	if (bpf_sysctl_get_new_value(ctx, text, TEXT) <= 0)
		goto malformed;
	// As in the Python program, each offset is the u32 sum of the lengths
	// before it (a failed parse's -EINVAL included).
	l1 = parse(text, TEXT, 0, &first);
	l2 = parse(text, TEXT, (__u32)l1, &second);
	l3 = parse(text, TEXT, (__u32)((__u32)l1 + (__u32)l2), &third);
	if (l1 <= 0 || l2 <= 0 || l3 <= 0)
		goto malformed;
	if (!(first <= second && second <= third) || second < MIN_DEFAULT) {
		outcomes[DISORDERED] += 1;
		return 0;
	}

	char current[2 * TEXT] = {};

	if (bpf_sysctl_get_current_value(ctx, current, TEXT) <= 0)
		goto malformed;
	for (int i = 0; i < 3; i++) {
		long length = parse(current, TEXT, pos, &value);

		if (length <= 0)
			goto malformed;
		pos += length;
		old_max = value;
	}
	if (third > old_max * GROWTH) {
		outcomes[TOO_LARGE] += 1;
		return 0;
	}
	outcomes[ACCEPTED] += 1;
	last.new_min = first;
	last.new_default = second;
	last.new_max = third;
	last.old_max = old_max;
	return 1;
malformed:
	outcomes[MALFORMED] += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
