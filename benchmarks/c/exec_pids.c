// Twin of examples/exec_pids.py: execs counted under the pid before the exec.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} execs SEC(".maps");

// Arguments: the task, its pid before the exec, the binary.
SEC("tp_btf/sched_process_exec")
int on_exec(__u64 *ctx)
{
	__u32 old_pid = (__u32)ctx[1];
	__u64 *seen = bpf_map_lookup_elem(&execs, &old_pid);

	if (!seen) {
		__u64 one = 1;
		bpf_map_update_elem(&execs, &old_pid, &one, BPF_ANY);
	} else {
		*seen += 1;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
