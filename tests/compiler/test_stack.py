"""The 512-byte BPF stack: frame planning counts every slot lowering makes
(variables, values handed to the kernel by address) and refuses a hook
that does not fit, for check and build alike; what LLVM adds itself is
measured in the emitted object.  Either way the user gets a located error,
never LLVM's own (which ended the process)."""
from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from pybpfc.compiler import codegen
from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.errors import CompileError, Source
from tests.support import REPO_ROOT, find_tool, pybpfc_cli, require_kernel_feature

# bytearray(504) fits; the keys and values the two updates hand the kernel
# by address do not fit beside it.
TWO_UPDATES = textwrap.dedent("""\
    from pybpfc import (ALLOW, HashMap, SysctlContext, cgroup_sysctl, sysctl_get_name, u32,
                        u64)

    counts: HashMap[u32, u64] = HashMap(max_entries=4)


    @cgroup_sysctl
    def big(ctx: SysctlContext) -> int:
        buf = bytearray(SIZE)
        n = sysctl_get_name(ctx, buf, 0)
        counts.update(1, 2)
        counts.update(3, u64(n))
        return ALLOW
""")

# 496 bytes of buffer fit, but seven values alive across a helper call are
# more than the registers that survive it: LLVM keeps some on the stack.
SPILLS = textwrap.dedent("""\
    from pybpfc import (ALLOW, REJECT, SysctlContext, cgroup_sysctl, get_prandom_u32,
                        sysctl_get_name, u64)


    @cgroup_sysctl
    def spills(ctx: SysctlContext) -> int:
        buf = bytearray(496)
        a = get_prandom_u32()
        b = get_prandom_u32()
        c = get_prandom_u32()
        d = get_prandom_u32()
        e = get_prandom_u32()
        f = get_prandom_u32()
        g = get_prandom_u32()
        n = sysctl_get_name(ctx, buf, 0)
        total = (u64(a) * 3 + u64(b) * 5 + u64(c) * 7 + u64(d) * 11 + u64(e) * 13
                 + u64(f) * 17 + u64(g) * 19)
        return ALLOW if total + u64(n) + buf[0] != 7 else REJECT
""")


@pytest.mark.parametrize("command", ["check", "build"])
def test_hidden_slots_count_in_check_and_build(command: str, tmp_path: Path) -> None:
    prog = tmp_path / "prog.py"
    prog.write_text(TWO_UPDATES.replace("SIZE", "504"))
    result = pybpfc_cli(command, "prog.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == ("prog.py:8:5: error: hook 'big' needs 536 bytes of stack (helper "
                        "functions included); BPF allows 512")
    note = lines[-1]
    assert "504 bytes: 'buf' (bytearray(504)), line 9" in note
    assert "8 bytes: the key of counts.update(), line 11" in note
    assert "PerCpuArrayMap with one entry" in note
    assert "LLVM" not in result.stderr and "bpf-stack-size" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "prog.o").exists()


def test_the_same_program_with_room_builds() -> None:
    # 496 + four 8-byte slots is exactly the stack.
    compiled = compile_source(Source("prog.py", TWO_UPDATES.replace("SIZE", "480")))
    assert codegen.stack_depths(compiled.elf)["big"] <= 512


def test_in_process_a_too_deep_frame_is_a_compile_error() -> None:
    """LLVM's stack error used to end the calling process with exit()."""
    with pytest.raises(CompileError) as caught:
        compile_source(Source("prog.py", TWO_UPDATES.replace("SIZE", "504")))
    assert caught.value.pos is not None and caught.value.pos.line == 8


def test_what_llvm_spills_is_measured_in_the_object(tmp_path: Path) -> None:
    source = Source("prog.py", SPILLS)
    check_source(source)    # the planned slots fit
    with pytest.raises(CompileError) as caught:
        compile_source(source)
    message = caught.value.render()
    match = re.match(r"prog\.py:6:5: error: hook 'spills' uses (\d+) bytes of stack once "
                     r"compiled; BPF allows 512", message)
    assert match and int(match.group(1)) > 512, message
    assert "take 496 bytes" in message
    (tmp_path / "prog.py").write_text(SPILLS)
    result = pybpfc_cli("build", "prog.py", cwd=tmp_path)
    assert result.returncode == 1 and "uses" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def _deepest_r10_offset(objdump: str, obj: Path) -> dict[str, int]:
    """The stack each function uses, read from llvm-objdump's listing."""
    text = subprocess.run([objdump, "-d", str(obj)], capture_output=True, text=True,
                          check=True).stdout
    depths: dict[str, int] = {}
    name = None
    from_r10: set[str] = set()      # registers just set to r10
    for line in text.splitlines():
        header = re.match(r"^[0-9a-f]+ <(\w+)>:", line)
        if header:
            name = header.group(1)
            depths[name] = 0
            continue
        if name is None:
            continue
        for offset in re.findall(r"\(r10 - (\d+)\)", line):
            depths[name] = max(depths[name], int(offset))
        copy = re.search(r"\t(r\d+) = r10$", line)
        add = re.search(r"\t(r\d+) \+= -(\d+)$", line)
        if copy:
            from_r10.add(copy.group(1))
        elif add and add.group(1) in from_r10:
            depths[name] = max(depths[name], int(add.group(2)))
            from_r10.discard(add.group(1))
    return depths


def test_stack_depths_agree_with_llvm_objdump(tmp_path: Path) -> None:
    objdump = find_tool("llvm-objdump")
    require_kernel_feature("llvm-objdump", objdump is not None, "LLVM's tools are not installed")
    assert objdump is not None
    seen = 0
    for program in sorted((REPO_ROOT / "examples").glob("*.py")):
        obj = tmp_path / f"{program.stem}.o"
        elf = compile_source(Source(str(program), program.read_text())).elf
        obj.write_bytes(elf)
        depths = codegen.stack_depths(elf)
        assert depths == _deepest_r10_offset(objdump, obj), program.name
        seen += sum(1 for d in depths.values() if d)
    assert seen >= 3      # some examples do use the stack
