// cgroup/getsockopt: rewrite the value of IP_FREEBIND to rewrite_to (1
// unless user space changes it; .data, writable after loading) when the
// buffer holds an int, counting rewrites in a .data counter that starts at
// 40 (so the test sees the initial contents reach the kernel).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOL_IP 0
#define IP_FREEBIND 15
#define PAGE_SIZE 4096

__u64 rewritten = 40;        /* .data */
__s32 rewrite_to = 1;        /* .data */

SEC("cgroup/getsockopt")
int freebind_on(struct bpf_sockopt *ctx)
{
	__u8 *optval = ctx->optval;
	__u8 *optval_end = ctx->optval_end;

	if (ctx->level == SOL_IP && ctx->optname == IP_FREEBIND) {
		if (optval + sizeof(__s32) > optval_end)
			goto out;         /* a buffer too small for an int: leave it */
		/* The kernel's optlen (4) stands; so does its retval (0). */
		*(__s32 *)optval = rewrite_to;
		rewritten++;
		return 1;
	}
out:
	if (ctx->optlen > PAGE_SIZE)
		ctx->optlen = 0;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
