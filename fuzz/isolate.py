"""Run a function over many inputs in a forked child, so that an input that
kills the process (LLVM aborts on some errors instead of raising) is
reported as a crash of that input instead of ending the whole run."""
from __future__ import annotations

import os
import pickle
import signal
import struct
import tempfile
import traceback
from typing import Any, Callable, Iterator, Sequence

CRASH = "crash"
TIMEOUT = "timeout"


def run_isolated(fn: Callable[[Any], Any], inputs: Sequence[Any],
                 time_limit: float = 0) -> Iterator[tuple[Any, Any]]:
    """(input, fn(input)) for each input, in order; an input during which
    the child died yields (input, (CRASH, how it died)), one that took more
    than ``time_limit`` seconds (0: no limit) (input, (TIMEOUT, ...)), and
    a new child goes on with the next input."""
    start = 0
    # What the child writes to stderr (LLVM's last words) is kept to name the crash.
    errors = tempfile.TemporaryFile()
    while start < len(inputs):
        errors.seek(0)
        errors.truncate()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            os.dup2(errors.fileno(), 2)
            _child(fn, inputs, start, write_end, time_limit)
        os.close(write_end)
        done = start
        with os.fdopen(read_end, "rb") as pipe:
            while True:
                header = pipe.read(4)
                if len(header) < 4:
                    break
                (size,) = struct.unpack("<I", header)
                yield inputs[done], pickle.loads(pipe.read(size))
                done += 1
        _, status = os.waitpid(pid, 0)
        if done < len(inputs):
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip().splitlines()[-3:]
            timed_out = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM
            yield inputs[done], (TIMEOUT if timed_out else CRASH,
                                 " / ".join([_describe(status)] + said))
            done += 1
        start = done
    errors.close()


def _child(fn: Callable[[Any], Any], inputs: Sequence[Any], start: int, out: int,
           time_limit: float) -> None:
    # SIGALRM's default action ends the child; the verifier stops on a signal.
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    status = 1
    try:
        with os.fdopen(out, "wb") as pipe:
            for item in inputs[start:]:
                signal.setitimer(signal.ITIMER_REAL, time_limit)
                result = fn(item)
                signal.setitimer(signal.ITIMER_REAL, 0)
                data = pickle.dumps(result)
                pipe.write(struct.pack("<I", len(data)) + data)
                pipe.flush()
        status = 0
    except BaseException:
        # An exception `fn` let through is a crash of that input: the last
        # lines of its traceback name it.
        os.write(2, traceback.format_exc().encode(errors="replace"))
    finally:
        os._exit(status)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exited with status {os.WEXITSTATUS(status)}"
