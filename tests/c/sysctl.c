// A cgroup/sysctl program that refuses writes to one sysctl by name.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u32 refused = 0;

SEC("cgroup/sysctl")
int guard_sysctl(struct bpf_sysctl *ctx)
{
	char name[16] = {};
	const char want[] = "tcp_mem";

	if (!ctx->write)
		return 1;
	if (bpf_sysctl_get_name(ctx, name, sizeof(name), BPF_F_SYSCTL_BASE_NAME) < 0)
		return 1;
	for (int i = 0; i < (int)sizeof(want); i++)
		if (name[i] != want[i])
			return 1;
	refused++;
	return 0;
}

char _license[] SEC("license") = "GPL";
