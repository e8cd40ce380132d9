// Twin of examples/opensnoop.py: every openat(2) with pid, file name and result.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct open_event {
	__u32 pid;
	__u32 tid;
	__u64 flags;
	__s64 ret;
	char comm[16];
	char filename[128];
};

// The tracepoints' records, as tracefs' format files lay them out.
struct sys_enter_openat_args {
	__u64 common;
	__s32 syscall_nr;
	__s64 dfd;
	const char *filename;
	__s64 flags;
	__s64 mode;
};

struct sys_exit_openat_args {
	__u64 common;
	__s32 syscall_nr;
	__s64 ret;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct open_event);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} opens SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct sys_enter_openat_args *ctx)
{
	struct open_event ev = {};
	__u64 ids = bpf_get_current_pid_tgid();

	ev.pid = ids >> 32;
	ev.tid = (__u32)ids;
	ev.flags = ctx->flags;
	bpf_get_current_comm(ev.comm, sizeof(ev.comm));
	bpf_probe_read_user_str(ev.filename, sizeof(ev.filename), ctx->filename);
	bpf_map_update_elem(&pending, &ev.tid, &ev, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct sys_exit_openat_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct open_event *seen = bpf_map_lookup_elem(&pending, &tid);

	if (seen) {
		seen->ret = ctx->ret;
		bpf_ringbuf_output(&opens, seen, sizeof(*seen), 0);
		bpf_map_delete_elem(&pending, &tid);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
