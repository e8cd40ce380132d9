// Twin of examples/getsockopt_freebind.py: report IP_FREEBIND as enabled.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOL_IP 0
#define IP_FREEBIND 15
#define PAGE_SIZE 4096

__u32 rewritten = 0;

SEC("cgroup/getsockopt")
int report_freebind(struct bpf_sockopt *ctx)
{
	if (ctx->level == SOL_IP && ctx->optname == IP_FREEBIND) {
		__u8 *optval = ctx->optval;

		if (optval + 4 <= (__u8 *)ctx->optval_end) {
			*(__u32 *)optval = 1;
			ctx->optlen = 4;
			// Else clang merges the two adjacent 4-byte stores into one
			// 8-byte store, which the verifier refuses on the context.
			asm volatile("" ::: "memory");
			ctx->retval = 0;
			rewritten += 1;
		}
		return 1;
	}
	if (ctx->optlen > PAGE_SIZE)
		ctx->optlen = 0;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
