// Twin of examples/sysctl_by_name.py: refuse reads of one sysctl, found by
// its full name, and count the rest.
#include "sysctl_text.h"

__u64 allowed = 0;
__u64 refused = 0;

const char wanted[20] = "net/ipv4/ip_forward";   // with its NUL

SEC("cgroup/sysctl")
int hide_ip_forward(struct bpf_sysctl *ctx)
{
	char name[32] = {};
	long length = bpf_sysctl_get_name(ctx, name, sizeof(name), 0);

	if (length > 0 && starts_with(name, wanted, sizeof(wanted))) {
		refused += 1;
		return 0;
	}
	allowed += 1;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
