// Twin of examples/bind_allowlist.py: bind() below port 1024 only to the
// ports `allowed` lists, and those without CAP_NET_BIND_SERVICE too.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} allowed SEC(".maps");

static __always_inline int verdict(__u32 user_port)
{
	__u32 port = bpf_ntohs((__u16)user_port);

	if (port == 0 || port >= 1024)
		return 1;
	return bpf_map_lookup_elem(&allowed, &port) ? 3 : 0;
}

SEC("cgroup/bind4")
int privileged_ports4(struct bpf_sock_addr *ctx)
{
	return verdict(ctx->user_port);
}

SEC("cgroup/bind6")
int privileged_ports6(struct bpf_sock_addr *ctx)
{
	return verdict(ctx->user_port);
}

char LICENSE[] SEC("license") = "GPL";
