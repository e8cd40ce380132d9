// Twin of benchmarks/programs/sysctl_rmem_ceiling.py: writes to
// net.ipv4.tcp_rmem must hold min < default < max <= max_bytes; accepted
// values go to an array map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TEXT 64
#define EINVAL 22

const volatile __u64 max_bytes = 1 << 25;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} accepted SEC(".maps");

__u64 writes = 0;
__u64 refused = 0;

const char wanted[18] = "net/ipv4/tcp_rmem";   // with its NUL; in .rodata

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
	// 64 bits wide, as clang's code for a __u32 pos fails the verifier
	// (sysctl_ascending.c); the casts keep the Python program's u32 sums.
	unsigned long pos = 0;

	if (!ctx->write)
		return 1;
	if (bpf_sysctl_get_name(ctx, name, sizeof(name), 0) <= 0 || !starts_with_wanted(name))
		return 1;
	writes += 1;
	if (bpf_sysctl_get_new_value(ctx, text, TEXT) <= 0)
		goto refuse;
	l_least = parse(text, pos, &least);
	pos += (__u32)l_least;
	l_usual = parse(text, pos, &usual);
	pos += (__u32)l_usual;
	l_most = parse(text, pos, &most);
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
