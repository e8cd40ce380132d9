/* raw_tracepoint/sys_enter: how many times each thread of the watched
 * process entered the system call the test names, counted per pid.
 * args[1] is the syscall number (args[0] the user registers). */
#include "common.h"

volatile __u64 counted_syscall;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 pid = (__u32)bpf_get_current_pid_tgid();
	__u64 one = 1, *count;

	if (!watched() || ctx->args[1] != counted_syscall)
		return 0;
	count = bpf_map_lookup_elem(&calls, &pid);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&calls, &pid, &one, BPF_NOEXIST);
	return 0;
}
