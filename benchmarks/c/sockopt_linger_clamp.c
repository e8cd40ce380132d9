// Twin of benchmarks/programs/sockopt_linger_clamp.py: SO_LINGER timeouts
// clamped to MAX_LINGER seconds, the first linger-0 request of a stream
// socket refused, each socket's requests kept in its storage.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOL_SOCKET 1
#define SO_LINGER 13
#define SOCK_STREAM 1
#define MAX_LINGER 5
#define PAGE_SIZE 4096

struct Linger {
	__u32 asked;
	__u32 given;
	__u32 calls;
	__u32 resets;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct Linger);
} lingers SEC(".maps");

__u64 clamped = 0;
__u64 refused = 0;

SEC("cgroup/setsockopt")
int clamp_linger(struct bpf_sockopt *ctx)
{
	struct Linger *state;
	__u32 *optval, onoff, seconds;

	if (ctx->level != SOL_SOCKET || ctx->optname != SO_LINGER) {
		if (ctx->optlen > PAGE_SIZE)
			ctx->optlen = 0;
		return 1;
	}
	if (ctx->optlen < 8)
		return 1;             // the kernel refuses it with EINVAL
	state = bpf_sk_storage_get(&lingers, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!state)
		return 0;
	state->calls += 1;
	optval = ctx->optval;
	// optlen >= 8, so the buffer holds both ints; the check is for the verifier.
	if ((void *)(optval + 2) > ctx->optval_end)
		return 1;
	onoff = optval[0];
	seconds = optval[1];
	state->asked = seconds;
	if (onoff && !seconds && ctx->sk->type == SOCK_STREAM) {
		state->resets += 1;
		if (state->resets == 1) {
			refused += 1;
			return 0;     // the first reset request is refused
		}
	}
	if (onoff && seconds > MAX_LINGER) {
		seconds = MAX_LINGER;
		optval[1] = seconds;
		clamped += 1;
	}
	state->given = seconds;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
