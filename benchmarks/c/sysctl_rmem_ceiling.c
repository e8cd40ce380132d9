// Twin of benchmarks/programs/sysctl_rmem_ceiling.py: writes to
// net.ipv4.tcp_rmem must hold min < default < max <= max_bytes; accepted
// values go to an array map.
#include "sysctl_text.h"

#define TEXT 64

const volatile __u64 max_bytes = 1 << 25;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} accepted SEC(".maps");

__u64 writes = 0;
__u64 refused = 0;

const char wanted[18] = "net/ipv4/tcp_rmem";   // with its NUL

static void store(__u32 index, __u64 value)
{
	bpf_map_update_elem(&accepted, &index, &value, BPF_ANY);
}

SEC("cgroup/sysctl")
int rmem_ceiling(struct bpf_sysctl *ctx)
{
	char name[24] = {};
	char text[2 * TEXT] = {};
	unsigned long least, usual, most;
	long l_least, l_usual, l_most;
	// 64 bits wide (sysctl_text.h says why); the casts keep the Python
	// program's u32 sums.
	unsigned long pos = 0;

	if (!ctx->write)
		return 1;
	if (bpf_sysctl_get_name(ctx, name, sizeof(name), 0) <= 0 ||
	    !starts_with(name, wanted, sizeof(wanted)))
		return 1;
	writes += 1;
	if (bpf_sysctl_get_new_value(ctx, text, TEXT) <= 0)
		goto refuse;
	l_least = parse(text, TEXT, pos, &least);
	pos += (__u32)l_least;
	l_usual = parse(text, TEXT, pos, &usual);
	pos += (__u32)l_usual;
	l_most = parse(text, TEXT, pos, &most);
	if (l_least <= 0 || l_usual <= 0 || l_most <= 0 ||
	    !(least < usual && usual < most) || most > max_bytes)
		goto refuse;
	store(0, least);
	store(1, usual);
	store(2, most);
	return 1;
refuse:
	refused += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
