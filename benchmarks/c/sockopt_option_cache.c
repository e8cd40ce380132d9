// Twin of benchmarks/programs/sockopt_option_cache.py: a per-socket cache
// of IP_TOS, IP_TTL and SO_PRIORITY (with a policy on the first two),
// answered by getsockopt(SOL_OPTCACHE, OPT_ALL) in one call.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOL_SOCKET 1
#define SO_PRIORITY 12
#define SOL_IP 0
#define IP_TOS 1
#define IP_TTL 2
#define SOL_OPTCACHE 0x6f63
#define OPT_ALL 1
#define ECN_MASK 0x03
#define MIN_TTL 16
#define PAGE_SIZE 4096

struct Cached {
	__u32 tos;
	__u32 ttl;
	__u32 priority;
	__u32 sets;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct Cached);
} cache SEC(".maps");

__u64 cached_sets = 0;
__u64 answered = 0;

SEC("cgroup/setsockopt")
int cache_option(struct bpf_sockopt *ctx)
{
	int level = ctx->level, name = ctx->optname;
	struct Cached *entry;
	__u32 *optval, value;

	if (!((level == SOL_IP && (name == IP_TOS || name == IP_TTL)) ||
	      (level == SOL_SOCKET && name == SO_PRIORITY)) || ctx->optlen != 4) {
		if (ctx->optlen > PAGE_SIZE)
			ctx->optlen = 0;      // use the caller's buffer as it is
		return 1;
	}
	entry = bpf_sk_storage_get(&cache, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!entry)
		return 0;
	optval = ctx->optval;
	// The buffer holds at least 16 bytes; the check is for the verifier.
	if ((void *)(optval + 1) > ctx->optval_end)
		return 1;
	value = *optval;
	if (level == SOL_SOCKET) {
		entry->priority = value;
	} else if (name == IP_TOS) {
		value &= ~ECN_MASK;
		*optval = value;
		entry->tos = value;
	} else {
		if (value < MIN_TTL) {
			value = MIN_TTL;
			*optval = value;
		}
		entry->ttl = value;
	}
	entry->sets += 1;
	cached_sets += 1;
	return 1;
}

SEC("cgroup/getsockopt")
int read_cache(struct bpf_sockopt *ctx)
{
	struct Cached *entry;
	__u32 *optval;

	if (ctx->level != SOL_OPTCACHE || ctx->optname != OPT_ALL) {
		if (ctx->optlen > PAGE_SIZE)
			ctx->optlen = 0;      // hand the kernel's own answer through
		return 1;
	}
	entry = bpf_sk_storage_get(&cache, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	optval = ctx->optval;
	if (!entry || (void *)(optval + 4) > ctx->optval_end)
		return 1;             // the kernel's error for an unknown level stands
	optval[3] = entry->sets;
	optval[2] = entry->priority;
	optval[1] = entry->ttl;
	optval[0] = entry->tos;
	ctx->optlen = 16;
	// Else clang merges the two adjacent 4-byte context stores into one
	// 8-byte store, which the verifier refuses.
	asm volatile("" ::: "memory");
	ctx->retval = 0;
	answered += 1;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
