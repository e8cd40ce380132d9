/* iter/task: one line "TGID PID COMM" for each thread of the watched process. */
#include "common.h"
#include <bpf/bpf_tracing.h>

SEC("iter/task")
int list_threads(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task || task->tgid != target_tgid)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %d %s\n", task->tgid, task->pid, task->comm);
	return 0;
}
