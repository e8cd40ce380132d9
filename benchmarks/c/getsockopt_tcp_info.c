// Twin of benchmarks/programs/getsockopt_tcp_info.py: TCP_INFO's round-trip
// times rounded up to whole GRAIN microseconds, per-socket call counts and
// largest congestion window in socket storage.
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>

#define SOL_TCP 6
#define TCP_ESTABLISHED 1
#define GRAIN 1000u
#define PAGE_SIZE 4096
#define WANTED (offsetof(struct tcp_info, tcpi_min_rtt) + 4)

struct Sampled {
	__u64 calls;
	__u32 max_cwnd;
	__u32 last_state;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct Sampled);
} samples SEC(".maps");

__u64 not_established = 0;

static __u32 coarse(__u32 us)
{
	return (us + GRAIN - 1) / GRAIN * GRAIN;
}

SEC("cgroup/getsockopt")
int coarse_tcp_info(struct bpf_sockopt *ctx)
{
	struct Sampled *sampled;
	struct tcp_info *info;

	if (ctx->level != SOL_TCP || ctx->optname != TCP_INFO) {
		if (ctx->optlen > PAGE_SIZE)
			ctx->optlen = 0;
		return 1;
	}
	if (ctx->retval != 0 || ctx->optlen < (int)WANTED)
		return 1;             // an error, or a caller that asked for less
	sampled = bpf_sk_storage_get(&samples, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!sampled)
		return 1;
	sampled->calls += 1;
	info = ctx->optval;
	// optlen >= WANTED; the check is for the verifier.
	if ((void *)info + WANTED > ctx->optval_end)
		return 1;
	sampled->last_state = info->tcpi_state;
	if (info->tcpi_state != TCP_ESTABLISHED)
		not_established += 1;
	if (info->tcpi_snd_cwnd > sampled->max_cwnd)
		sampled->max_cwnd = info->tcpi_snd_cwnd;
	info->tcpi_rtt = coarse(info->tcpi_rtt);
	info->tcpi_rttvar = coarse(info->tcpi_rttvar);
	info->tcpi_rcv_rtt = coarse(info->tcpi_rcv_rtt);
	info->tcpi_min_rtt = coarse(info->tcpi_min_rtt);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
