// What the load generator's timing driver (loadgen.c) needs of its
// operations (loadgen_ops.c): each one syscall, or a short fixed sequence,
// that a program under test guards.
#ifndef LOADGEN_H
#define LOADGEN_H

// An op opens what its loop needs once per process (setup, given FD or
// -1), then its loop makes n iterations.  Failures of the guarded call
// itself are the program's business and are not checked, everything else is.
struct op {
	const char *name;
	void (*setup)(int fd);
	void (*loop)(long n);
};

// The op of that name; exits with status 2 when there is none.
const struct op *find_op(const char *name);

// Reports what failed with errno's text and exits with status 2.
void die(const char *what);

#endif
