// Twin of examples/getsockopt_chain.py: for IP_TOS, shift the value the
// previous program (or the kernel) left by 4 bits and add this
// attachment's layer, set in .rodata before loading.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOL_IP 0
#define IP_TOS 1
#define PAGE_SIZE 4096

const volatile __u32 layer = 0;   // volatile: read from .rodata, never folded
__u64 calls = 0;

SEC("cgroup/getsockopt")
int stack_layers(struct bpf_sockopt *ctx)
{
	if (ctx->level == SOL_IP && ctx->optname == IP_TOS) {
		__u8 *optval = ctx->optval;

		if (optval + 4 <= (__u8 *)ctx->optval_end) {
			__sync_fetch_and_add(&calls, 1);
			*(__u32 *)optval = *(__u32 *)optval << 4 | layer;
			return 1;
		}
	}
	if (ctx->optlen > PAGE_SIZE)
		ctx->optlen = 0;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
