// A CO-RE field access: the offset must be relocated against the running
// kernel's BTF before loading, which pybpfc's runtime does not do.
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
