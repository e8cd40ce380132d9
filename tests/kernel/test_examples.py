"""Every example builds with `pybpfc build`, reads back as intended, loads
into the real kernel through bpftool, and its xlated dump shows the
example's own Python lines."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.constants import SH_FLAGS

from tests.support import REPO_ROOT, bpftool_dump_xlated_linum, loadall, pybpfc_cli
from pybpfc import abi
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.elf import read_object

EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.py"))
LINUM = re.compile(r"^; (.*) \[file:(\S+) line_num:(\d+)(?: line_col:\d+)?\]$")


def build(example: Path, out_dir: Path) -> Path:
    out = out_dir / (example.stem + ".o")
    result = pybpfc_cli("build", str(example), "-o", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_every_hook_has_an_example() -> None:
    used = set()
    for example in EXAMPLES:
        plan = compile_source(Source(str(example), example.read_text())).plan
        used.update(p.hook for p in plan.programs)
    assert used == set(abi.HOOKS_BY_DECORATOR)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_object_reads_back_as_planned(example: Path) -> None:
    compiled = compile_source(Source(str(example), example.read_text()))
    plan = compiled.plan
    import io
    elf = ELFFile(io.BytesIO(compiled.elf))
    assert elf["e_machine"] == "EM_BPF" and elf.little_endian
    sections = {s.name: s for s in elf.iter_sections()}
    assert ".BTF" in sections and ".BTF.ext" in sections
    assert ".eh_frame" not in sections
    assert sections["license"].data() == plan.license.encode() + b"\0"
    symtab = elf.get_section_by_name(".symtab")
    names = [s.name for s in elf.iter_sections()]
    functions = {
        (sym.name, names[sym["st_shndx"]])
        for sym in symtab.iter_symbols()
        if sym["st_info"]["type"] == "STT_FUNC" and sym["st_info"]["bind"] == "STB_GLOBAL"
        and sym["st_size"] > 0
    }
    assert functions == {(p.name, p.section) for p in plan.programs}
    for p in plan.programs:
        assert sections[p.section]["sh_flags"] & SH_FLAGS.SHF_EXECINSTR
    variables = {
        (sym.name, names[sym["st_shndx"]], sym["st_size"])
        for sym in symtab.iter_symbols()
        if sym["st_info"]["type"] == "STT_OBJECT" and sym.name != "_license"
        and sym["st_info"]["bind"] == "STB_GLOBAL"
    }
    planned_maps = {(m.name, ".maps") for m in plan.maps}
    assert {(name, section) for name, section, _ in variables if section == ".maps"} \
        == planned_maps
    assert {v for v in variables if v[1] != ".maps"} \
        == {(g.name, g.section, g.size) for g in plan.globals}
    # The runtime reads every map back from its BTF as it was planned.
    spec = read_object(compiled.elf)
    read_back = {(m.name, m.map_type, m.key_size, m.value_size, m.max_entries, m.flags)
                 for m in spec.maps.values()}
    assert read_back == {(m.name, m.map_type, m.key_size, m.value_size, m.max_entries,
                          m.map_flags) for m in plan.maps}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_kernel_loads_example_with_python_line_info(
        example: Path, tmp_path: Path, bpffs: Path) -> None:
    obj = build(example, tmp_path)
    loaded = loadall(obj, bpffs / "progs")
    assert loaded.returncode == 0, loaded.stderr
    plan = compile_source(Source(str(example), example.read_text())).plan
    source_lines = example.read_text().splitlines()
    for program in plan.programs:
        dump = bpftool_dump_xlated_linum(bpffs / "progs" / program.name)
        entries = [LINUM.match(line.strip()) for line in dump.splitlines()]
        entries = [m.groups() for m in entries if m]
        assert entries, dump
        for text, path, line in entries:
            assert Path(path) == example.resolve()
            assert source_lines[int(line) - 1].strip() == text.strip()


def test_examples_pass_mypy() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                             *map(str, EXAMPLES)], capture_output=True, text=True,
                            cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_examples_compile() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    programs = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S)
                if "from pybpfc import" in b]
    sections = [[p.section for p in compile_source(Source("README.md", b)).plan.programs]
                for b in programs]
    assert sections == [["cgroup/setsockopt"], ["cgroup/sock_create"]]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_pybpfc_maps_shows_every_map_and_global(example: Path, tmp_path: Path) -> None:
    obj = build(example, tmp_path)
    shown = pybpfc_cli("maps", str(obj))
    assert shown.returncode == 0, shown.stderr
    plan = compile_source(Source(str(example), example.read_text())).plan
    for m in plan.maps:
        assert re.search(rf"^map {m.name} \(", shown.stdout, re.M), shown.stdout
    for g in plan.globals:
        assert re.search(rf"^global {g.name} = ", shown.stdout, re.M), shown.stdout
