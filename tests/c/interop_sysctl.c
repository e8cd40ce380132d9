// cgroup/sysctl: refuse reads of one sysctl, found by its full name
// (bpf_sysctl_get_name without BPF_F_SYSCTL_BASE_NAME) and compared byte by
// byte in a bounded loop against a .rodata string; writes are let through.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define NAME_MAX_LEN 32

const volatile char forbidden[NAME_MAX_LEN] = "net/ipv4/ip_forward";  /* .rodata */
__u32 reads_refused = 0;     /* .bss */
__u32 reads_allowed = 0;     /* .bss */
__u32 writes_seen = 0;       /* .bss */

static __always_inline int is_forbidden(struct bpf_sysctl *ctx)
{
	char name[NAME_MAX_LEN] = {};
	long len = bpf_sysctl_get_name(ctx, name, sizeof(name), 0);

	if (len < 0 || len >= NAME_MAX_LEN)
		return 0;
#pragma clang loop unroll(disable)
	for (int i = 0; i < NAME_MAX_LEN; i++) {
		if (name[i] != forbidden[i])
			return 0;
		if (name[i] == '\0')
			return 1;
	}
	return 0;
}

SEC("cgroup/sysctl")
int refuse_read(struct bpf_sysctl *ctx)
{
	if (ctx->write) {
		writes_seen++;
		return 1;
	}
	if (is_forbidden(ctx)) {
		reads_refused++;
		return 0;
	}
	reads_allowed++;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
