/* perf_event: at each sample of the watched process, the instruction
 * pointer and the ids of its user and kernel stacks. */
#include "common.h"
#include <bpf/bpf_tracing.h>

struct sample_event {
	__u32 pid;
	__s32 user_stack;
	__s32 kernel_stack;
	__u32 pad;
	__u64 ip;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

struct sample_event *sample_event_type __attribute__((unused));

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	struct sample_event *e;

	if (!watched())
		return 0;
	e = bpf_ringbuf_reserve(&samples, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = (__u32)bpf_get_current_pid_tgid();
	e->ip = PT_REGS_IP(&ctx->regs);
	e->user_stack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	e->kernel_stack = bpf_get_stackid(ctx, &stacks, 0);
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
