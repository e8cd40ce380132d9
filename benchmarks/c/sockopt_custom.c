// Twin of examples/sockopt_custom.py: a socket option of our own kept in
// socket storage, an IP_FREEBIND override both ways, and option values
// larger than a page handed through.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOL_IP 0
#define IP_FREEBIND 15
#define SOL_PYBPFC 0x7079
#define NOTE 1
#define FREEBIND_SEEN 0x10
#define PAGE_SIZE 4096

struct Note {
	__u8 value;
	__u64 writes;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct Note);
} notes SEC(".maps");

__u64 consumed = 0;

SEC("cgroup/setsockopt")
int set_option(struct bpf_sockopt *ctx)
{
	if (ctx->level == SOL_PYBPFC && ctx->optname == NOTE) {
		struct Note *note;
		__u8 *optval;

		if (ctx->optlen != 1)
			return 0;
		note = bpf_sk_storage_get(&notes, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!note)
			return 0;
		optval = ctx->optval;
		// The example's optval[0] reads 0 past the end of the buffer.
		note->value = optval + 1 <= (__u8 *)ctx->optval_end ? optval[0] : 0;
		note->writes += 1;
		consumed += 1;
		ctx->optlen = -1;     // handled here: the kernel skips this call
		return 1;
	}
	if (ctx->level == SOL_IP && ctx->optname == IP_FREEBIND) {
		__u8 *optval = ctx->optval;

		if (optval + 4 <= (__u8 *)ctx->optval_end)
			*(__u32 *)optval = 1;
		return 1;
	}
	if (ctx->optlen > PAGE_SIZE)
		ctx->optlen = 0;      // use the caller's buffer as it is
	return 1;
}

SEC("cgroup/getsockopt")
int get_option(struct bpf_sockopt *ctx)
{
	if (ctx->level == SOL_PYBPFC && ctx->optname == NOTE) {
		struct Note *note = bpf_sk_storage_get(&notes, ctx->sk, 0, 0);
		__u8 *optval = ctx->optval;

		if (!note || optval + 1 > (__u8 *)ctx->optval_end)
			return 1;     // nothing stored: the kernel's own error stands
		optval[0] = note->value;
		ctx->optlen = 1;
		// Else clang merges the two adjacent 4-byte context stores into
		// one 8-byte store, which the verifier refuses.
		asm volatile("" ::: "memory");
		ctx->retval = 0;
		return 1;
	}
	if (ctx->level == SOL_IP && ctx->optname == IP_FREEBIND) {
		__u8 *optval = ctx->optval;

		if (optval + 1 <= (__u8 *)ctx->optval_end)
			optval[0] |= FREEBIND_SEEN;
		return 1;
	}
	if (ctx->optlen > PAGE_SIZE)
		ctx->optlen = 0;      // hand the kernel's own answer through
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
