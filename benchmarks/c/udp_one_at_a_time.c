// Twin of examples/udp_one_at_a_time.py: the tasks of a cgroup hold one UDP
// socket at a time; socket storage marks the counted socket, cgroup storage
// (keyed by the cgroup id alone, so both programs share it) keeps totals.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOCK_DGRAM 2
#define COUNTED 1

struct UdpStats {
	__u64 created;
	__u64 refused;
	__u64 released;
};

__s64 in_use = 0;

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} counted SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
	__type(key, __u64);
	__type(value, struct UdpStats);
} stats SEC(".maps");

SEC("cgroup/sock_create")
int one_udp_socket(struct bpf_sock *ctx)
{
	struct UdpStats *cgroup;
	__u32 *mark;

	if (ctx->type != SOCK_DGRAM)
		return 1;
	cgroup = bpf_get_local_storage(&stats, 0);
	if (__sync_fetch_and_add(&in_use, 1) > 0) {
		__sync_fetch_and_add(&in_use, -1);   // one is open already
		__sync_fetch_and_add(&cgroup->refused, 1);
		return 0;
	}
	mark = bpf_sk_storage_get(&counted, ctx, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!mark) {
		__sync_fetch_and_add(&in_use, -1);
		return 0;
	}
	*mark = COUNTED;
	__sync_fetch_and_add(&cgroup->created, 1);
	return 1;
}

SEC("cgroup/sock_release")
int udp_socket_closed(struct bpf_sock *ctx)
{
	__u32 *mark = bpf_sk_storage_get(&counted, ctx, 0, 0);

	if (mark && *mark == COUNTED) {
		struct UdpStats *cgroup;

		*mark = 0;
		__sync_fetch_and_add(&in_use, -1);
		cgroup = bpf_get_local_storage(&stats, 0);
		__sync_fetch_and_add(&cgroup->released, 1);
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
