// Twin of benchmarks/programs/sockopt_buffer_budget.py: SO_SNDBUF plus
// SO_RCVBUF of a socket kept within a budget (socket storage), and the
// granted sizes reported by getsockopt instead of the kernel's doubled ones.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOL_SOCKET 1
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define BUDGET (1u << 20)
#define MIN_BUFFER 4096u
#define PAGE_SIZE 4096

struct Buffers {
	__u32 send;
	__u32 receive;
	__u32 cut;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct Buffers);
} buffers SEC(".maps");

__u64 granted_bytes = 0;
__u64 reports = 0;

SEC("cgroup/setsockopt")
int budget_buffers(struct bpf_sockopt *ctx)
{
	int name = ctx->optname;
	struct Buffers *sizes;
	__u32 *optval, asked, other, size;

	if (ctx->level != SOL_SOCKET || (name != SO_SNDBUF && name != SO_RCVBUF) ||
	    ctx->optlen != 4) {
		if (ctx->optlen > PAGE_SIZE)
			ctx->optlen = 0;
		return 1;
	}
	sizes = bpf_sk_storage_get(&buffers, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!sizes)
		return 1;
	optval = ctx->optval;
	// The buffer holds at least 16 bytes; the check is for the verifier.
	if ((void *)(optval + 1) > ctx->optval_end)
		return 1;
	asked = *optval;
	other = name == SO_SNDBUF ? sizes->receive : sizes->send;
	size = asked < BUDGET - other ? asked : BUDGET - other;
	if (size < MIN_BUFFER)
		size = MIN_BUFFER;
	if (size != asked) {
		sizes->cut += 1;
		*optval = size;
	}
	if (name == SO_SNDBUF)
		sizes->send = size;
	else
		sizes->receive = size;
	granted_bytes += size;
	return 1;
}

SEC("cgroup/getsockopt")
int report_granted(struct bpf_sockopt *ctx)
{
	int name = ctx->optname;
	struct Buffers *sizes;
	__u32 *optval, granted;

	if (ctx->level != SOL_SOCKET || (name != SO_SNDBUF && name != SO_RCVBUF)) {
		if (ctx->optlen > PAGE_SIZE)
			ctx->optlen = 0;
		return 1;
	}
	sizes = bpf_sk_storage_get(&buffers, ctx->sk, 0, 0);
	optval = ctx->optval;
	if (!sizes || ctx->retval != 0 || (void *)(optval + 1) > ctx->optval_end)
		return 1;
	granted = name == SO_SNDBUF ? sizes->send : sizes->receive;
	if (granted && *optval == granted * 2) {
		*optval = granted;
		reports += 1;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
