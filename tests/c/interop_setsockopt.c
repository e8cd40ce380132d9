// cgroup/setsockopt: refuse IP_TTL at the level held in a .rodata global
// (set from Python on the spec before loading; the default -1 matches no
// level, so nothing is refused), and count calls and refusals per optname
// in a hash map whose value is a struct.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define IP_TTL 2
#define PAGE_SIZE 4096

struct optstats {
	__u64 calls;
	__u64 refused;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __s32);
	__type(value, struct optstats);
} by_optname SEC(".maps");

const volatile int refused_level = -1;    /* .rodata */

SEC("cgroup/setsockopt")
int refuse_ttl(struct bpf_sockopt *ctx)
{
	__s32 optname = ctx->optname;
	int refuse = ctx->level == refused_level && optname == IP_TTL;
	struct optstats *s = bpf_map_lookup_elem(&by_optname, &optname);

	if (!s) {
		struct optstats fresh = {};

		bpf_map_update_elem(&by_optname, &optname, &fresh, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&by_optname, &optname);
	}
	if (s) {
		__sync_fetch_and_add(&s->calls, 1);
		if (refuse)
			__sync_fetch_and_add(&s->refused, 1);
	}
	/* Hand the user's own buffer through when it is too big for ours. */
	if (ctx->optlen > PAGE_SIZE)
		ctx->optlen = 0;
	return refuse ? 0 : 1;
}

char LICENSE[] SEC("license") = "GPL";
