// Twin of examples/socket_calls_audit.py: count UDP receives with their
// source, getsockname() on INET sockets and every address call on Unix
// sockets, one counter each.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 9);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *seen = bpf_map_lookup_elem(&calls, &which);

	if (seen)
		__sync_fetch_and_add(seen, 1);
}

#define COUNTER(section, name, index)                     \
	SEC(section) int name(struct bpf_sock_addr *ctx) \
	{                                                \
		count(index);                            \
		return 1;                                \
	}

COUNTER("cgroup/recvmsg4", recvmsg4, 0)
COUNTER("cgroup/recvmsg6", recvmsg6, 1)
COUNTER("cgroup/getsockname4", getsockname4, 2)
COUNTER("cgroup/getsockname6", getsockname6, 3)
COUNTER("cgroup/connect_unix", connect_unix, 4)
COUNTER("cgroup/sendmsg_unix", sendmsg_unix, 5)
COUNTER("cgroup/recvmsg_unix", recvmsg_unix, 6)
COUNTER("cgroup/getpeername_unix", getpeername_unix, 7)
COUNTER("cgroup/getsockname_unix", getsockname_unix, 8)

char LICENSE[] SEC("license") = "GPL";
