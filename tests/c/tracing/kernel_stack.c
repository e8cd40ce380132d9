/* tracepoint/syscalls/sys_enter_openat: the kernel stack of the watched
 * process's last openat(2), as an id in a stack trace map. */
#include "common.h"

volatile __s64 last_stack = -1;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__type(key, __u32);
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(void *ctx)
{
	if (watched())
		last_stack = bpf_get_stackid(ctx, &stacks, 0);
	return 0;
}
