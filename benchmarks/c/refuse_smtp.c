// Twin of examples/refuse_smtp.py: connect() to an SMTP port (25, 465 or
// 587) fails with EPERM, over IPv4 and IPv6.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

__u64 refused = 0;

static __always_inline int mail_port(__u32 port)
{
	if (port == bpf_htons(25) || port == bpf_htons(465) || port == bpf_htons(587)) {
		refused += 1;
		return 1;
	}
	return 0;
}

SEC("cgroup/connect4")
int no_smtp4(struct bpf_sock_addr *ctx)
{
	return !mail_port(ctx->user_port);
}

SEC("cgroup/connect6")
int no_smtp6(struct bpf_sock_addr *ctx)
{
	return !mail_port(ctx->user_port);
}

char LICENSE[] SEC("license") = "GPL";
