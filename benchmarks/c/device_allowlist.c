// Twin of examples/device_allowlist.py: only the harmless character
// devices (null, zero, full, random, urandom, tty), never mknod; count refusals.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MEM_MAJOR 1
#define TTY_MAJOR 5

__u64 refused = 0;

static __always_inline int harmless(__u32 major, __u32 minor)
{
	if (major == MEM_MAJOR)
		return minor == 3 || minor == 5 || minor == 7 || minor == 8 || minor == 9;
	return major == TTY_MAJOR && minor == 0;
}

SEC("cgroup/dev")
int device_allowlist(struct bpf_cgroup_dev_ctx *ctx)
{
	__u32 type = ctx->access_type & 0xFFFF;
	__u32 access = ctx->access_type >> 16;

	if (type == BPF_DEVCG_DEV_CHAR && !(access & BPF_DEVCG_ACC_MKNOD) &&
	    harmless(ctx->major, ctx->minor))
		return 1;
	refused += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
