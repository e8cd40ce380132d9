// Twin of examples/libc_calls.py: libc getenv() calls, name and whether set.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

struct call {
	__u32 pid;
	__u32 found;
	char name[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct call);
} calling SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} calls SEC(".maps");

// x86_64: the first argument in rdi, the result in rax.
SEC("uprobe//usr/lib/x86_64-linux-gnu/libc.so.6:getenv")
int enter_getenv(struct pt_regs *ctx)
{
	struct call call = {};
	__u64 ids = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)ids;

	call.pid = ids >> 32;
	bpf_probe_read_user_str(call.name, sizeof(call.name), (void *)ctx->rdi);
	bpf_map_update_elem(&calling, &tid, &call, BPF_ANY);
	return 0;
}

SEC("uretprobe//usr/lib/x86_64-linux-gnu/libc.so.6:getenv")
int exit_getenv(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call *call = bpf_map_lookup_elem(&calling, &tid);

	if (call) {
		if (ctx->rax != 0)
			call->found = 1;
		bpf_ringbuf_output(&calls, call, sizeof(*call), 0);
		bpf_map_delete_elem(&calling, &tid);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
