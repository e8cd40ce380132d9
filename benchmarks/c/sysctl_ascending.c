// Twin of examples/sysctl_ascending.py: refuse writes to net.ipv4.tcp_rmem
// whose three numbers are not ascending, report each refusal in a ring
// buffer, and keep the max of the value an accepted write replaces.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define COUNT 3
#define TEXT 64
#define EINVAL 22

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

// Global, so it lands in .rodata (not .rodata.str1.1, which the runtime
// does not load).
const char wanted[18] = "net/ipv4/tcp_rmem";   // with its NUL

// No memcmp on BPF; kept a loop for the reason sysctl_by_name.c gives.
static int starts_with_wanted(const char *name)
{
#pragma clang loop unroll(disable)
	for (unsigned int i = 0; i < sizeof(wanted); i++)
		if (name[i] != wanted[i])
			return 0;
	return 1;
}

// strtoul from pos on, as the example's strtoul(): an offset at or past
// the end gives -EINVAL without a call.  The verifier checks the largest
// offset with the largest length, so text is 2 * TEXT zeroed bytes of
// which the value uses the first TEXT.  pos is 64 bits wide: as a __u32,
// clang's CPU v1 code computes TEXT - pos from a copy the check did not
// bound, and the verifier refuses the call.
static long parse(char *text, unsigned long pos, unsigned long *value)
{
	if (pos >= TEXT)
		return -EINVAL;
	return bpf_strtoul(text + pos, TEXT - pos, 10, value);
}

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
	if (!starts_with_wanted(name))
		return 1;
	checked += 1;
	if (bpf_sysctl_get_new_value(ctx, text, TEXT) < 0)
		return 0;
	for (int i = 0; i < COUNT; i++) {
		long length = parse(text, pos, &numbers[i]);

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
			long length = parse(current, pos, &value);

			if (length <= 0)
				break;
			pos += length;
			replaced_max = value;
		}
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
