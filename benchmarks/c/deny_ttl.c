// Twin of examples/deny_ttl.py: refuse setsockopt(IP_TTL), count refusals,
// and hand buffers larger than a page through.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOL_IP 0
#define IP_TTL 2
#define PAGE_SIZE 4096

__u64 refused = 0;

SEC("cgroup/setsockopt")
int deny_ttl(struct bpf_sockopt *ctx)
{
	if (ctx->level == SOL_IP && ctx->optname == IP_TTL) {
		refused += 1;
		return 0;
	}
	if (ctx->optlen > PAGE_SIZE)
		ctx->optlen = 0;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
