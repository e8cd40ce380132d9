/* What every tracing test program shares: the process it watches. */
#ifndef TRACING_COMMON_H
#define TRACING_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* The tgid of the process to watch, set by the test before attaching. */
volatile __u32 target_tgid;

static __always_inline int watched(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

char LICENSE[] SEC("license") = "GPL";

#endif
