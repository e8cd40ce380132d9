/* CO-RE reads the kernel relocates at load: BPF_CORE_READ through the
 * kernel's own struct and through a local flavor of it (task_struct___pybpfc,
 * with a field the kernel lacks), field and type facts, an enum value.
 * Each program stores what it read in globals when the watched process
 * enters a system call.  The programs are straight-line code (no guarded
 * dead branch), so the kernel's translated instructions keep the object's
 * numbering, which the tests rely on. */
#include "common.h"
#include <bpf/bpf_core_read.h>

struct task_struct___pybpfc {
	int tgid;
	struct task_struct___pybpfc *real_parent;
	int no_such_field;
} __attribute__((preserve_access_index));

volatile __u64 parent_tgid, parent_tgid_by_flavor;
volatile __u64 comm_size, task_size, ringbuf_type, has_no_such_field, has_arena;
volatile __u64 offset_of_real_parent, offset_of_tgid;

SEC("raw_tracepoint/sys_enter")
int core_parent(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct task_struct___pybpfc *flavor = (void *)task;

	if (!watched())
		return 0;
	parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	parent_tgid_by_flavor = BPF_CORE_READ(flavor, real_parent, tgid);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int core_facts(void *ctx)
{
	struct task_struct___pybpfc *flavor = (void *)bpf_get_current_task();

	comm_size = bpf_core_field_size(struct task_struct, comm);
	task_size = bpf_core_type_size(struct task_struct);
	ringbuf_type = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	has_no_such_field = bpf_core_field_exists(flavor->no_such_field);
	has_arena = bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_ARENA);
	offset_of_real_parent = bpf_core_field_offset(struct task_struct, real_parent);
	offset_of_tgid = bpf_core_field_offset(struct task_struct, tgid);
	return 0;
}
