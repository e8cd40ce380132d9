/* CO-RE reads of a field the kernel's task_struct does not have: guarded
 * by bpf_core_field_exists (loads; the dead read is dropped), and not
 * (the kernel poisons the read, and the load must fail naming the field). */
#include "common.h"
#include <bpf/bpf_core_read.h>

struct task_struct___pybpfc {
	int tgid;
	int no_such_field;
} __attribute__((preserve_access_index));

volatile __u64 result;

SEC("raw_tracepoint/sys_enter")
int core_guarded(void *ctx)
{
	struct task_struct___pybpfc *task = (void *)bpf_get_current_task();

	if (!watched())
		return 0;
	if (bpf_core_field_exists(task->no_such_field))
		result = BPF_CORE_READ(task, no_such_field);
	else
		result = 7;
	return 0;
}

#ifdef UNGUARDED
SEC("raw_tracepoint/sys_enter")
int core_unguarded(void *ctx)
{
	struct task_struct___pybpfc *task = (void *)bpf_get_current_task();

	result = BPF_CORE_READ(task, no_such_field);
	return 0;
}
#endif
