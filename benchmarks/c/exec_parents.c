// Twin of examples/exec_parents.py: each exec's pid, parent pid and both
// names, read from sched_process_exec's task through BTF with CO-RE.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// Only the members read; CO-RE finds them in the kernel's task_struct by name.
struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
} __attribute__((preserve_access_index));

struct exec_event {
	__u32 pid;
	__u32 ppid;
	char comm[16];
	char parent_comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} execs SEC(".maps");

// Arguments: the task, its pid before the exec, the binary.
SEC("tp_btf/sched_process_exec")
int on_exec(__u64 *ctx)
{
	struct task_struct *task = (void *)ctx[0];
	struct task_struct *parent = task->real_parent;
	struct exec_event ev = {};

	ev.pid = task->tgid;
	ev.ppid = parent->tgid;
	bpf_probe_read_kernel(ev.comm, sizeof(ev.comm), task->comm);
	bpf_probe_read_kernel(ev.parent_comm, sizeof(ev.parent_comm), parent->comm);
	bpf_ringbuf_output(&execs, &ev, sizeof(ev), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
