/* uprobe and uretprobe on target.c's add_numbers(a, b): its arguments at
 * entry and its result at return, in call order, into one ring buffer.
 * The entry probe names its binary in its section (UPROBE_BINARY, given
 * with -D at build time); the return probe is told at attach time. */
#include "common.h"
#include <bpf/bpf_tracing.h>

#ifndef UPROBE_BINARY
#error "build with -DUPROBE_BINARY='\"/path/to/target\"'"
#endif

enum { ENTERED = 0, RETURNED = 1 };

struct call_event {
	__u32 pid;
	__u32 kind;
	__s64 a;
	__s64 b;
	__s64 result;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} calls SEC(".maps");

struct call_event *call_event_type __attribute__((unused));

static __always_inline void record(__u32 kind, __s64 a, __s64 b, __s64 result)
{
	struct call_event *e = bpf_ringbuf_reserve(&calls, sizeof(*e), 0);

	if (!e)
		return;
	e->pid = (__u32)bpf_get_current_pid_tgid();
	e->kind = kind;
	e->a = a;
	e->b = b;
	e->result = result;
	bpf_ringbuf_submit(e, 0);
}

SEC("uprobe/" UPROBE_BINARY ":add_numbers")
int BPF_KPROBE(on_add, int a, int b)
{
	if (watched())
		record(ENTERED, a, b, 0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_add_return, int result)
{
	if (watched())
		record(RETURNED, 0, 0, result);
	return 0;
}
