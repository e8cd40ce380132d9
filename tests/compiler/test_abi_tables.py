"""The ABI tables (pybpfc.abi) are the one home of the kernel's facts: they
agree with Debian's /usr/include/linux/bpf.h and with themselves, nothing
else in pybpfc restates a kernel number, and the package imports nothing
else of pybpfc.  (tests/kernel/test_abi_kernel.py checks them against the
running kernel's BTF, which knows the members newer than the header.)"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pybpfc
from pybpfc import abi, hooks_doc
from pybpfc.abi import kernel, system
from tests.support import REPO_ROOT, require_kernel_feature

BPF_H = Path("/usr/include/linux/bpf.h")

# --------------------------------------------------- linux/bpf.h parsing


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _evaluate(expression: str, known: dict[str, int]) -> int | None:
    expression = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expression.strip())

    def name(match: re.Match[str]) -> str:
        word = match.group(0)
        if re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", word):
            return word
        if word in known:
            return str(known[word])
        raise KeyError(word)

    try:
        expression = re.sub(r"\b\w+\b", name, expression)
    except KeyError:
        return None
    if not re.fullmatch(r"[0-9a-fA-FxX\s()<>|&+\-~*]+", expression):
        return None
    return int(eval(expression, {"__builtins__": {}}))  # noqa: S307 - digits and operators only


def _enum_body(body: str, values: dict[str, int]) -> dict[str, int]:
    """The enumerators of one enum body, in order (``values`` gives the
    names its expressions may use, and receives the new ones)."""
    members: dict[str, int] = {}
    previous = -1
    for item in body.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, expression = item.partition("=")
        name = name.strip()
        value = _evaluate(expression, values) if expression else previous + 1
        assert value is not None, f"cannot evaluate enumerator {item!r}"
        values[name] = members[name] = previous = value
    return members


def parse_bpf_h(text: str) -> dict[str, int]:
    """Every enumerator (named and anonymous enums) and every #define with an
    integer value in linux/bpf.h."""
    text = _strip_comments(text)
    values: dict[str, int] = {}
    for body in re.findall(r"\benum\s*\w*\s*\{(.*?)\}", text, flags=re.S):
        _enum_body(body, values)
    for name, expression in re.findall(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+([^\n]+)$", text,
                                       flags=re.M):
        value = _evaluate(expression, values)
        if value is not None:
            values.setdefault(name, value)
    return values


def enum_members(text: str, enum: str) -> dict[str, int]:
    """``enum NAME``'s enumerators, in order, without the ``__MAX_*`` ones."""
    body = re.search(rf"\benum {enum}\s*\{{(.*?)\}}", _strip_comments(text), flags=re.S)
    assert body, enum
    members = _enum_body(body.group(1), dict(parse_bpf_h(text)))
    return {name: value for name, value in members.items()
            if not name.startswith(("__", "MAX_"))}


def struct_members(text: str, name: str) -> list[str]:
    body = re.search(r"struct %s \{(.*?)\n\};" % name, text, re.S)
    assert body is not None, name
    members = []
    for line in body.group(1).splitlines():
        line = re.sub(r"/\*.*?\*/", "", line).strip()
        m = re.match(r"__bpf_md_ptr\([^,]+,\s*(\w+)\)", line) or re.match(
            r"[\w\s]+?\s(\w+)(\[\d+\])?;", line)
        if m:
            members.append(m.group(1))
    return members


def helper_ids(text: str) -> dict[str, int]:
    """Helper name -> id, from the header's __BPF_FUNC_MAPPER (in id order)."""
    mapper = re.search(r"#define __BPF_FUNC_MAPPER\(FN\)(.*?)\n\n", text, re.S)
    assert mapper is not None
    names = re.findall(r"FN\((\w+)", mapper.group(1))
    return {name: number for number, name in enumerate(names)}


@pytest.fixture(scope="module")
def header_text() -> str:
    require_kernel_feature("linux/bpf.h", BPF_H.is_file(), f"{BPF_H} is not installed")
    return BPF_H.read_text()


@pytest.fixture(scope="module")
def header(header_text: str) -> dict[str, int]:
    return parse_bpf_h(header_text)


def kernel_constants() -> dict[str, int]:
    return {name: value for name, value in vars(kernel).items()
            if re.fullmatch(r"BPF_[A-Z0-9_]+", name) and type(value) is int}


def test_header_parser_reads_enums_and_defines() -> None:
    sample = """
    enum bpf_cmd { BPF_A, BPF_B, /* c */ BPF_C = BPF_B, BPF_D, };
    enum { BPF_F_X = (1U << 3), BPF_F_Y };
    #define BPF_F_Z\t(1U << 2)
    #define BPF_NAME_LEN 16U
    #define BPF_MACRO(x) ((x) + 1)
    """
    assert parse_bpf_h(sample) == {"BPF_A": 0, "BPF_B": 1, "BPF_C": 1, "BPF_D": 2,
                                   "BPF_F_X": 8, "BPF_F_Y": 9, "BPF_F_Z": 4,
                                   "BPF_NAME_LEN": 16}
    assert enum_members(sample, "bpf_cmd") == {"BPF_A": 0, "BPF_B": 1, "BPF_C": 1, "BPF_D": 2}


# ------------------------------------------------------ kernel.py vs bpf.h


def test_constants_equal_linux_bpf_h(header: dict[str, int]) -> None:
    constants = kernel_constants()
    assert len(constants) > 200
    wrong = {name: (value, header[name]) for name, value in constants.items()
             if name in header and header[name] != value}
    assert not wrong, f"(pybpfc.abi.kernel, bpf.h) values differ: {wrong}"
    # Only enum members newer than the header may be missing from it (the
    # kernel test holds those to the running kernel's BTF).
    enum_members_ = set().union(*kernel.ENUMS.values())
    unknown = sorted(name for name in constants if name not in header
                     and name not in enum_members_)
    assert not unknown, f"not in {BPF_H}: {unknown}"


@pytest.mark.parametrize("enum", sorted(kernel.ENUMS))
def test_each_enum_is_the_headers_then_newer_members(header_text: str, enum: str) -> None:
    ours = kernel.ENUMS[enum]
    theirs = enum_members(header_text, enum)
    absent = {name: value for name, value in theirs.items() if ours.get(name) != value}
    assert not absent, f"enum {enum}: missing or different in pybpfc.abi.kernel: {absent}"
    newer = {name: value for name, value in ours.items() if name not in theirs}
    assert all(value > max(theirs.values()) for value in newer.values()), newer
    # Every dict holds just its own enum: nothing of the next one slipped in.
    assert all(name in theirs or name in newer for name in ours)
    assert all(value <= max(ours.values()) for value in ours.values())


def test_enums_hold_their_own_members_only() -> None:
    prefixes = {"bpf_map_type": "BPF_MAP_TYPE_", "bpf_prog_type": "BPF_PROG_TYPE_",
                "bpf_link_type": "BPF_LINK_TYPE_"}
    for enum, prefix in prefixes.items():
        assert all(name.startswith(prefix) for name in kernel.ENUMS[enum]), enum
    for enum in ("bpf_cmd", "bpf_attach_type"):
        assert not any(name.startswith(tuple(prefixes.values())) for name in kernel.ENUMS[enum])


def test_helper_ids_match_bpf_h(header_text: str) -> None:
    ids = helper_ids(header_text)
    for helper in abi.HELPERS.values():
        assert ids[helper.name] == helper.func_id, helper.name


def test_context_fields_are_members_of_the_kernel_structs(header_text: str) -> None:
    for ctx in abi.CONTEXTS:
        members = struct_members(header_text, ctx.c_name)
        names = list(dict.fromkeys(f.member for f in ctx.fields))
        assert set(names) <= set(members), set(names) - set(members)
        # In the kernel's order, so offsets grow as the table says.
        assert names == [m for m in members if m in names]
        offsets = [f.offset for f in ctx.fields]
        assert offsets == sorted(offsets)
        assert all(f.offset + f.size * f.count <= ctx.size for f in ctx.fields)
        # A part of a member (one half of it) lies within the member the table has.
        for f in ctx.fields:
            whole = ctx.field(f.part_of) if f.part_of else f
            assert whole is not None and whole.part_of is None, f.name
            assert whole.offset <= f.offset and \
                f.offset + f.size <= whole.offset + whole.size, f.name


# ------------------------------------------------- the tables themselves


@pytest.mark.parametrize("hook", abi.HOOKS, ids=lambda h: h.decorator)
def test_hook_rows_name_what_the_other_tables_hold(hook: abi.Hook) -> None:
    assert hook.prog_type in kernel.PROG_TYPES
    assert hook.attach_target in abi.ATTACH_TARGETS
    # A cgroup or an XDP device is attached to with the hook's attach type,
    # and a kind the kernel's BTF names at load is loaded with one; a socket,
    # an event or tc's classifier (its direction is chosen when it is
    # attached) without.
    assert (hook.attach_type is None) == (
        hook.attach_target not in (abi.TARGET_CGROUP, abi.TARGET_NETDEV_XDP)
        and hook.kind.attach_btf is None)
    assert hook.attach_type is None or hook.attach_type in kernel.ATTACH_TYPES
    fields = {f.name for f in hook.context.fields}
    assert hook.writable <= hook.readable <= fields
    assert {name for name, _, _ in hook.write_bounds} <= hook.writable
    assert hook.helpers <= set(abi.HELPERS), hook.helpers - set(abi.HELPERS)
    assert hook.sections and len({s.name for s in hook.sections}) == len(hook.sections)


def test_every_helper_is_allowed_somewhere_and_reached_one_way() -> None:
    called_by_methods = {m.helper for kind in abi.MAP_KINDS.values() for m in kind.signatures}
    for helper in abi.HELPERS.values():
        assert any(helper.name in h.helpers for h in abi.HOOKS), helper.name
        # Helpers called as functions are exported under their own name;
        # the others are map methods or print().
        assert (helper.name in pybpfc.__all__) == (helper.call == "function"), helper.name
        assert (helper.name in called_by_methods) == (helper.call == "method"), helper.name
        assert helper.call == "function" or not helper.signature, helper.name


@pytest.mark.parametrize("kind", abi.MAP_KINDS.values(), ids=lambda k: k.python_name)
def test_map_kinds_and_their_methods(kind: abi.MapKind) -> None:
    assert kind.map_type in kernel.MAP_TYPES
    assert kind.map_type_id == getattr(kernel, kind.map_type)
    names = [m.name for m in kind.signatures]
    assert len(set(names)) == len(names) and kind.methods == tuple(
        (m.name, m.helper) for m in kind.signatures)
    for method in kind.signatures:
        assert kind.helper_for(method.name) == method.helper
        assert abi.HELPERS[method.helper].call == "method"
        params = method.params
        assert len({p.name for p in params}) == len({p.role for p in params}) == len(params)
        # Python's rule: no required parameter after an optional one.
        required = [p.required for p in params]
        assert required == sorted(required, reverse=True), method.name
        assert all(method.param(p.name) is p for p in params)
    assert kind.method("no_such_method") is None and kind.helper_for("no_such_method") is None


def test_sections_follow_libbpfs_match_rules() -> None:
    for kind in abi.PROGRAM_KINDS:
        for section in kind.sections:
            assert abi.program_kind_for_section(section.name) is kind
            assert section.name in abi.section_names()
    for hook in abi.HOOKS:
        assert abi.PROGRAM_KINDS_BY_NAME[hook.section] is hook.kind
        for section in hook.sections:
            assert abi.hook_for_section(section.name) is hook
    assert abi.hook_for_section("cgroup/sock") is abi.hook_named("cgroup_sock_create")
    assert abi.hook_for_section("socket/second") is abi.hook_named("socket_filter")
    for unknown in ("socketx", "cgroup/sockx", "cgroup/sock_create/x", "cgroup/sysctl/",
                    "kprobex/sysctl", "cgroup", ""):
        assert abi.hook_for_section(unknown) is None, unknown
        assert abi.program_kind_for_section(unknown) is None, unknown
    required = abi.Section("tracepoint", abi.REQUIRED_SUFFIX)
    assert required.matches("tracepoint/syscalls/sys_enter_openat")
    assert not required.matches("tracepoint") and not required.matches("tracepointx/a")
    optional = abi.Section("uprobe", abi.OPTIONAL_SUFFIX)
    assert optional.matches("uprobe") and optional.matches("uprobe/bin:func")
    assert not optional.matches("uprobex")


def test_docs_hooks_md_is_generated_from_the_tables() -> None:
    assert (REPO_ROOT / "docs" / "hooks.md").read_text() == hooks_doc.render()


# ------------------------------------------------------------- one home

# Where a kernel number must not be written again: the package, and the
# benchmarks and tests around it.
PACKAGE_DIRS = (REPO_ROOT / "pybpfc", REPO_ROOT / "runtime", REPO_ROOT / "benchmarks",
                REPO_ROOT / "tests")
KERNEL_PY = REPO_ROOT / "pybpfc" / "abi" / "kernel.py"
SYSTEM_PY = REPO_ROOT / "pybpfc" / "abi" / "system.py"
# Programs written as their authors write them, with constants of their own.
BAD_PROGRAMS = REPO_ROOT / "tests" / "bad"     # mistakes, some not even Python
BENCHMARK_PROGRAMS = REPO_ROOT / "benchmarks" / "programs"


# The names pybpfc.abi.kernel and pybpfc.abi.system define (BPF_MAP_CREATE,
# PAGE_SIZE, INSN_SIZE, BPF_FS_MAGIC, ...).
KERNEL_NAMES = {name for table in (kernel, system) for name in vars(table)
                if re.fullmatch(r"[A-Z][A-Z0-9_]+", name)}


def kernel_numbers_written_in(path: Path) -> list[str]:
    """Assignments of a literal to a name pybpfc.abi.kernel defines: the
    kernel's number written down a second time, instead of read from it."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(n, (ast.Name, ast.Attribute, ast.Call)) for n in ast.walk(value)):
            continue      # read from somewhere (the tables), not written here
        for target in targets:
            if isinstance(target, ast.Name) and target.id in KERNEL_NAMES:
                found.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {target.id}")
    return found


def test_kernel_numbers_are_written_only_in_abi_kernel() -> None:
    assert len(kernel_numbers_written_in(KERNEL_PY)) > 200   # the check sees them there
    assert len(kernel_numbers_written_in(SYSTEM_PY)) > 15
    elsewhere = [hit for directory in PACKAGE_DIRS for path in sorted(directory.rglob("*.py"))
                 if path not in (KERNEL_PY, SYSTEM_PY)
                 and not {BAD_PROGRAMS, BENCHMARK_PROGRAMS} & set(path.parents)
                 for hit in kernel_numbers_written_in(path)]
    assert elsewhere == [], elsewhere


def test_the_syscall_layer_re_exports_the_kernel_numbers() -> None:
    from pybpfc.runtime import bpf
    for name, value in kernel_constants().items():
        assert getattr(bpf, name) == value, name


def test_abi_imports_nothing_else_of_pybpfc() -> None:
    # pybpfc/__init__.py imports the language module (which imports the
    # tables): an empty package object stands in for it, so that only what
    # pybpfc.abi itself imports is loaded.
    code = (
        "import sys, types\n"
        "package = types.ModuleType('pybpfc')\n"
        "package.__path__ = [sys.argv[1]]\n"
        "sys.modules['pybpfc'] = package\n"
        "import pybpfc.abi\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('pybpfc.'))\n"
        "heavy = sorted(m for m in sys.modules\n"
        "               if m.split('.')[0] in ('ctypes', 'llvmlite', 'lark', 'elftools'))\n"
        "print(loaded)\n"
        "print(heavy)\n")
    result = subprocess.run([sys.executable, "-c", code, str(REPO_ROOT / "pybpfc")],
                            capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    loaded, heavy = map(ast.literal_eval, result.stdout.splitlines())
    assert "pybpfc.abi.hooks" in loaded and "pybpfc.abi.kernel" in loaded
    assert [m for m in loaded if not m.startswith("pybpfc.abi")] == []
    assert heavy == []
