// A struct_ops map and its program: a kind of object pybpfc's runtime does
// not load.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct tcp_congestion_ops {
	void (*init)(void *sk);
	char name[16];
};

SEC("struct_ops/init")
void fuzz_init(void *sk)
{
}

SEC(".struct_ops")
struct tcp_congestion_ops fuzz_cc = {
	.init = (void *)fuzz_init,
	.name = "pybpfc_fuzz",
};

char _license[] SEC("license") = "GPL";
