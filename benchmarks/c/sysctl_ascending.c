// Twin of examples/sysctl_ascending.py: refuse writes to net.ipv4.tcp_rmem
// whose three numbers are not ascending, report each refusal in a ring
// buffer, and keep the max of the value an accepted write replaces.
#include "sysctl_text.h"

#define COUNT 3
#define TEXT 64

struct Refused {
	__u64 low;
	__u64 middle;
	__u64 high;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} refusals SEC(".maps");

__u64 checked = 0;
__u64 refused = 0;
__u64 replaced_max = 0;

const char wanted[18] = "net/ipv4/tcp_rmem";   // with its NUL

SEC("cgroup/sysctl")
int ascending_tcp_rmem(struct bpf_sysctl *ctx)
{
	char name[32] = {};
	char text[2 * TEXT] = {};
	unsigned long numbers[COUNT];
	unsigned long pos = 0;      // stays below 2 * TEXT: no u32 wrap to mimic

	if (!ctx->write)
		return 1;
	bpf_sysctl_get_name(ctx, name, sizeof(name), 0);
	if (!starts_with(name, wanted, sizeof(wanted)))
		return 1;
	checked += 1;
	if (bpf_sysctl_get_new_value(ctx, text, TEXT) < 0)
		return 0;
	for (int i = 0; i < COUNT; i++) {
		long length = parse(text, TEXT, pos, &numbers[i]);

		if (length <= 0) {
			refused += 1;
			return 0;     // fewer than three numbers
		}
		pos += length;
	}
	if (!(numbers[0] <= numbers[1] && numbers[1] <= numbers[2])) {
		struct Refused record = {numbers[0], numbers[1], numbers[2]};

		refused += 1;
		bpf_ringbuf_output(&refusals, &record, sizeof(record), 0);
		return 0;
	}

	char current[2 * TEXT] = {};

	if (bpf_sysctl_get_current_value(ctx, current, TEXT) > 0) {
		pos = 0;
		for (int i = 0; i < COUNT; i++) {
			unsigned long value;
			long length = parse(current, TEXT, pos, &value);

			if (length <= 0)
				break;
			pos += length;
			replaced_max = value;
		}
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
