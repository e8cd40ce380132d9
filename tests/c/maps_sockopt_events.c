// cgroup/getsockopt writing one ring buffer record per call (a record for
// IP_FREEBIND is reserved, then discarded), counting calls per CPU (a
// per-CPU array of structs and a per-CPU hash), per option in an LRU hash
// with a struct key, and per cgroup in legacy cgroup storage.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define IP_FREEBIND 15

struct event {
	__u32 pid;
	__s32 level;
	__s32 optname;
	__s32 optlen;
};

/* Puts struct event into BTF (locals' types are not), so readers can
 * decode records by its name. */
struct event *event_type __attribute__((unused));

struct cpu_calls {
	__u64 calls;
	__u64 optlen_sum;
};

struct option {
	__s32 level;
	__s32 optname;
};

struct cgroup_calls {
	__u64 getsockopts;
	__s32 last_optname;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_calls);
} per_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __s32);
	__type(value, __u32);
} per_cpu_by_optname SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32);
	__type(key, struct option);
	__type(value, __u64);
} by_option SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
	__type(key, struct bpf_cgroup_storage_key);
	__type(value, struct cgroup_calls);
} per_cgroup SEC(".maps");

SEC("cgroup/getsockopt")
int observe(struct bpf_sockopt *ctx)
{
	__u32 zero = 0, one = 1;
	struct option opt = { .level = ctx->level, .optname = ctx->optname };
	struct cpu_calls *cpu;
	struct cgroup_calls *cg;
	__u32 *by_name;
	__u64 *count, first = 1;
	struct event ev = {
		.pid = bpf_get_current_pid_tgid() >> 32,
		.level = ctx->level,
		.optname = ctx->optname,
		.optlen = ctx->optlen,
	};

	if (ctx->optname == IP_FREEBIND) {
		struct event *reserved = bpf_ringbuf_reserve(&events, sizeof(*reserved), 0);

		if (reserved) {
			*reserved = ev;
			bpf_ringbuf_discard(reserved, 0);
		}
	} else {
		bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
	}

	cpu = bpf_map_lookup_elem(&per_cpu, &zero);
	if (cpu) {
		cpu->calls++;
		cpu->optlen_sum += ctx->optlen;
	}
	by_name = bpf_map_lookup_elem(&per_cpu_by_optname, &opt.optname);
	if (by_name)
		(*by_name)++;
	else
		bpf_map_update_elem(&per_cpu_by_optname, &opt.optname, &one, BPF_NOEXIST);

	count = bpf_map_lookup_elem(&by_option, &opt);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&by_option, &opt, &first, BPF_NOEXIST);

	cg = bpf_get_local_storage(&per_cgroup, 0);
	cg->getsockopts++;
	cg->last_optname = ctx->optname;
	if (ctx->optlen > 4096)
		ctx->optlen = 0;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
