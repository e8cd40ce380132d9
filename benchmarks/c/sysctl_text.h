// What the sysctl twins share: the Python programs' bytearray.startswith()
// and strtoul() over a text buffer, as a C programmer writes them.
#ifndef SYSCTL_TEXT_H
#define SYSCTL_TEXT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define EINVAL 22

// The BPF target has no memcmp to call: compare byte by byte.  Unrolled,
// clang 14 turns the early exits into a chain of selects whose 2^size paths
// the verifier cannot walk, so the loop stays a loop.  `wanted` is a global
// const array, so it lands in .rodata (a string literal in a function would
// go to .rodata.str1.1, which the runtime does not load).
static int starts_with(const char *name, const char *wanted, unsigned int size)
{
#pragma clang loop unroll(disable)
	for (unsigned int i = 0; i < size; i++)
		if (name[i] != wanted[i])
			return 0;
	return 1;
}

// strtoul from pos on, as the Python programs' strtoul(): an offset at or
// past the end gives -EINVAL without a call.  The verifier checks the
// largest offset with the largest length, so a text of `size` bytes lies in
// 2 * size zeroed bytes.  pos is 64 bits wide: as a __u32, clang computes
// size - pos from a copy the check did not bound, and the verifier refuses
// the call ("R2 invalid zero-sized read").
static long parse(char *text, unsigned long size, unsigned long pos, unsigned long *value)
{
	if (pos >= size)
		return -EINVAL;
	return bpf_strtoul(text + pos, size - pos, 10, value);
}

#endif
