/* tracepoint/syscalls/sys_enter_openat: the pid and file name of each
 * openat(2) of the watched process, into a ring buffer.  The record layout
 * is tracefs's: 8 bytes of common fields, the syscall number, then one
 * 8-byte slot per argument. */
#include "common.h"

struct openat_args {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	__u64 dfd;
	const char *filename;
	__u64 flags;
	__u64 mode;
};

struct open_event {
	__u32 pid;
	__u32 tgid;
	__u64 flags;
	char filename[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} opens SEC(".maps");

struct open_event *open_event_type __attribute__((unused));

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(struct openat_args *ctx)
{
	struct open_event *e;
	__u64 id = bpf_get_current_pid_tgid();

	if (!watched())
		return 0;
	e = bpf_ringbuf_reserve(&opens, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	e->flags = ctx->flags;
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), ctx->filename);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
