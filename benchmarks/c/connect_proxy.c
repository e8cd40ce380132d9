// Twin of examples/connect_proxy.py: TCP connections to a port `proxied`
// lists go to its proxy on loopback; getpeername() shows what was asked.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SOCK_STREAM 1

struct Destination {
	__u32 ip[4];
	__u32 port;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} proxied SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct Destination);
} asked SEC(".maps");

__u64 connects = 0;
__u32 redirected = 0;

// The proxy's port (host byte order) for a TCP connection, or NULL.
static __always_inline __u32 *proxy_for(struct bpf_sock_addr *ctx)
{
	__u32 port, *proxy;

	if (ctx->type != SOCK_STREAM)
		return 0;
	connects += 1;
	port = bpf_ntohs((__u16)ctx->user_port);
	proxy = bpf_map_lookup_elem(&proxied, &port);
	if (proxy)
		redirected += 1;
	return proxy;
}

SEC("cgroup/connect4")
int to_proxy4(struct bpf_sock_addr *ctx)
{
	struct Destination *dest;
	__u32 *proxy = proxy_for(ctx);

	if (!proxy)
		return 1;
	dest = bpf_sk_storage_get(&asked, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (dest) {
		dest->ip[0] = ctx->user_ip4;
		dest->port = ctx->user_port;
	}
	ctx->user_ip4 = bpf_htonl(0x7F000001);
	ctx->user_port = bpf_htons((__u16)*proxy);
	return 1;
}

SEC("cgroup/getpeername4")
int as_asked4(struct bpf_sock_addr *ctx)
{
	struct Destination *dest = bpf_sk_storage_get(&asked, ctx->sk, 0, 0);

	if (dest) {
		ctx->user_ip4 = dest->ip[0];
		ctx->user_port = dest->port;
	}
	return 1;
}

SEC("cgroup/connect6")
int to_proxy6(struct bpf_sock_addr *ctx)
{
	struct Destination *dest;
	__u32 *proxy = proxy_for(ctx);

	if (!proxy)
		return 1;
	dest = bpf_sk_storage_get(&asked, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (dest) {
		dest->ip[0] = ctx->user_ip6[0];
		dest->ip[1] = ctx->user_ip6[1];
		dest->ip[2] = ctx->user_ip6[2];
		dest->ip[3] = ctx->user_ip6[3];
		dest->port = ctx->user_port;
	}
	ctx->user_ip6[0] = 0;
	ctx->user_ip6[1] = 0;
	ctx->user_ip6[2] = 0;
	ctx->user_ip6[3] = bpf_htonl(1);
	ctx->user_port = bpf_htons((__u16)*proxy);
	return 1;
}

SEC("cgroup/getpeername6")
int as_asked6(struct bpf_sock_addr *ctx)
{
	struct Destination *dest = bpf_sk_storage_get(&asked, ctx->sk, 0, 0);

	if (dest) {
		ctx->user_ip6[0] = dest->ip[0];
		ctx->user_ip6[1] = dest->ip[1];
		ctx->user_ip6[2] = dest->ip[2];
		ctx->user_ip6[3] = dest->ip[3];
		ctx->user_port = dest->port;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
