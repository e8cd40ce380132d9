// An extern global (libbpf's __kconfig): pybpfc's runtime does not resolve
// externs, so reading this object must fail with a message naming the symbol.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;

SEC("cgroup/sysctl")
int needs_kernel_version(struct bpf_sysctl *ctx)
{
	return LINUX_KERNEL_VERSION > 0;
}

char _license[] SEC("license") = "GPL";
