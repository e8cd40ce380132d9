// Twin of examples/sysctl_by_name.py: refuse reads of one sysctl, found by
// its full name, and count the rest.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 allowed = 0;
__u64 refused = 0;

// Global, so it lands in .rodata (a static one would go to .rodata.str1.1,
// which the runtime does not load).
const char wanted[20] = "net/ipv4/ip_forward";   // with its NUL

// The BPF target has no memcmp to call: compare byte by byte.  Unrolled,
// clang 14 turns the early exits into a chain of selects whose 2^20 paths
// the verifier cannot walk, so the loop stays a loop.
static int starts_with_wanted(const char *name)
{
#pragma clang loop unroll(disable)
	for (unsigned int i = 0; i < sizeof(wanted); i++)
		if (name[i] != wanted[i])
			return 0;
	return 1;
}

SEC("cgroup/sysctl")
int hide_ip_forward(struct bpf_sysctl *ctx)
{
	char name[32] = {};
	long length = bpf_sysctl_get_name(ctx, name, sizeof(name), 0);

	if (length > 0 && starts_with_wanted(name)) {
		refused += 1;
		return 0;
	}
	allowed += 1;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
