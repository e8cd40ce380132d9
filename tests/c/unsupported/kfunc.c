// Kernel functions (kfuncs) and a kernel symbol (.ksyms): libbpf resolves
// them against the kernel's BTF; pybpfc's runtime does not, and must say so.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern const void init_net __ksym;

SEC("cgroup/sysctl")
int uses_kfuncs(struct bpf_sysctl *ctx)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return (unsigned long)&init_net > 4096;
}

char _license[] SEC("license") = "GPL";
