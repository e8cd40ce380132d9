/* tp_btf/sched_process_exec: each exec by a child of the watched process,
 * with its pid, its parent's tgid (task->real_parent->tgid, read with
 * CO-RE through the typed arguments) and the file it executes. */
#include "common.h"
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct exec_event {
	__u32 pid;
	__u32 old_pid;
	__u32 parent_tgid;
	__u32 pad;
	char filename[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} execs SEC(".maps");

struct exec_event *exec_event_type __attribute__((unused));

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_event *e;
	__u32 parent = task->real_parent->tgid;

	if (parent != target_tgid)
		return 0;
	e = bpf_ringbuf_reserve(&execs, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = task->pid;
	e->old_pid = old_pid;
	e->parent_tgid = parent;
	e->pad = 0;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), bprm->filename);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
