// A CO-RE field access through a local flavor of struct bpf_sock: the kernel
// relocates it against its own BTF when pybpfc's runtime loads the program.
// Only AF_INET sockets may be created.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_sock___local {
	__u32 bound_dev_if;
	__u32 family;
} __attribute__((preserve_access_index));

SEC("cgroup/sock_create")
int core_family(struct bpf_sock *sk)
{
	struct bpf_sock___local *local = (void *)sk;

	return local->family == 2;
}

char _license[] SEC("license") = "GPL";
