/* bpf_perf_event_output from a raw tracepoint: one numbered record for
 * each time the watched process enters the system call the test names;
 * outputs the kernel refused (no room) are counted in failed_outputs. */
#include "common.h"

volatile __u64 counted_syscall;
volatile __u64 sequence;
volatile __u64 failed_outputs;

struct numbered {
	__u64 seq;
	__u32 pid;
	__u32 check;            /* seq * 2654435761, to catch torn records */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} outputs SEC(".maps");

struct numbered *numbered_type __attribute__((unused));

SEC("raw_tracepoint/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct numbered rec;

	if (!watched() || ctx->args[1] != counted_syscall)
		return 0;
	rec.seq = __sync_fetch_and_add(&sequence, 1);
	rec.pid = (__u32)bpf_get_current_pid_tgid();
	rec.check = (__u32)(rec.seq * 2654435761u);
	if (bpf_perf_event_output(ctx, &outputs, BPF_F_CURRENT_CPU, &rec, sizeof(rec)))
		__sync_fetch_and_add(&failed_outputs, 1);
	return 0;
}
