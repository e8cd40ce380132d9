// Twin of examples/sock_create_mark.py: mark every socket, refuse raw ones.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOCK_RAW 3
#define MARK 0x2A

struct Counts {
	__u64 created;
	__u64 refused;
};

struct Counts counts = {};
__u64 per_type[8] = {};

// Socket types beyond 7 share the last slot.
static __u32 slot_for(__u32 sock_type)
{
	return sock_type < 7 ? sock_type : 7;
}

SEC("cgroup/sock_create")
int mark_sockets(struct bpf_sock *ctx)
{
	if (ctx->type == SOCK_RAW) {
		counts.refused += 1;
		return 0;
	}
	ctx->mark = MARK;
	ctx->priority = 6;
	counts.created += 1;
	per_type[slot_for(ctx->type)] += 1;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
