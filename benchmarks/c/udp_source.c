// Twin of examples/udp_source.py: UDP datagrams to loopback leave from
// `source4` when it is set; IPv6 datagrams are counted.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

__u32 source4 = 0;
__u64 rewritten = 0;
__u64 sent6 = 0;

SEC("cgroup/sendmsg4")
int choose_source4(struct bpf_sock_addr *ctx)
{
	if (source4 != 0 && (ctx->user_ip4 & bpf_htonl(0xFF000000)) == bpf_htonl(0x7F000000)) {
		ctx->msg_src_ip4 = source4;
		rewritten += 1;
	}
	return 1;
}

SEC("cgroup/sendmsg6")
int count6(struct bpf_sock_addr *ctx)
{
	sent6 += 1;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
