// Twin of examples/execsnoop.py: every exec, with pid and file name.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct exec_event {
	__u32 pid;
	__u32 old_pid;
	char comm[16];
	char filename[128];
};

// sched_process_exec's record; filename is a __data_loc (offset in the low 16 bits).
struct sched_process_exec_args {
	__u64 common;
	__u32 filename_loc;
	__s32 pid;
	__s32 old_pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} execs SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct sched_process_exec_args *ctx)
{
	struct exec_event ev = {};

	ev.pid = ctx->pid;
	ev.old_pid = ctx->old_pid;
	bpf_get_current_comm(ev.comm, sizeof(ev.comm));
	bpf_probe_read_kernel_str(ev.filename, sizeof(ev.filename),
				  (void *)ctx + (ctx->filename_loc & 0xFFFF));
	bpf_ringbuf_output(&execs, &ev, sizeof(ev), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
