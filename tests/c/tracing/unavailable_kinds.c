/* Programs of kinds this kernel may lack: a kprobe (needs CONFIG_KPROBES),
 * an fentry and an LSM program (need BPF trampolines).  Each is built
 * alone (-DKIND_KPROBE, -DKIND_FENTRY, -DKIND_LSM) so that each load is
 * refused for its own reason. */
#include "common.h"
#include <bpf/bpf_tracing.h>

volatile __u64 hits;

#ifdef KIND_KPROBE
SEC("kprobe/do_unlinkat")
int BPF_KPROBE(on_unlink_kprobe)
{
	hits++;
	return 0;
}
#endif

#ifdef KIND_FENTRY
SEC("fentry/do_unlinkat")
int BPF_PROG(on_unlink_fentry, int dfd)
{
	hits++;
	return 0;
}
#endif

#ifdef KIND_LSM
SEC("lsm/file_open")
int BPF_PROG(on_file_open, struct file *file)
{
	hits++;
	return 0;
}
#endif
