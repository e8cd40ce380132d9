"""The hook table is the one source of hook facts: the language module, the
docs and the kernel's own headers agree with it."""
from __future__ import annotations

import re
from pathlib import Path

import pybpfc
from tests.support import REPO_ROOT
from pybpfc import hooks, hooks_doc, lang

BPF_H = Path("/usr/include/linux/bpf.h")


def test_docs_hooks_md_is_generated_from_the_table() -> None:
    assert (REPO_ROOT / "docs" / "hooks.md").read_text() == hooks_doc.render()


def test_language_module_exports_every_decorator_and_context() -> None:
    for hook in hooks.HOOKS:
        assert hook.decorator in pybpfc.__all__
    for ctx in hooks.CONTEXTS:
        cls = getattr(lang, ctx.python_name)
        assert list(cls.__annotations__) == [f.name for f in ctx.fields]


def enum_values(name: str) -> dict[str, int]:
    body = re.search(r"enum %s \{(.*?)\};" % name, BPF_H.read_text(), re.S)
    assert body is not None
    values, next_value = {}, 0
    for entry in body.group(1).split(","):
        entry = re.sub(r"/\*.*?\*/", "", entry, flags=re.S).strip()
        if not entry or entry.startswith("__"):
            continue
        ident, _, value = entry.partition("=")
        if value.strip():
            next_value = int(value.strip(), 0)
        values[ident.strip()] = next_value
        next_value += 1
    return values


def test_program_and_attach_type_numbers_match_bpf_h() -> None:
    prog_types = enum_values("bpf_prog_type")
    attach_types = enum_values("bpf_attach_type")
    for name, number in hooks.PROG_TYPES.items():
        assert prog_types[name] == number
    for name, number in hooks.ATTACH_TYPES.items():
        assert attach_types[name] == number


def struct_members(name: str) -> list[str]:
    body = re.search(r"struct %s \{(.*?)\n\};" % name, BPF_H.read_text(), re.S)
    assert body is not None
    members = []
    for line in body.group(1).splitlines():
        line = re.sub(r"/\*.*?\*/", "", line).strip()
        m = re.match(r"__bpf_md_ptr\([^,]+,\s*(\w+)\)", line) or re.match(
            r"[\w\s]+?\s(\w+)(\[\d+\])?;", line)
        if m:
            members.append(m.group(1))
    return members


def test_context_fields_are_members_of_the_kernel_structs() -> None:
    for ctx in hooks.CONTEXTS:
        members = struct_members(ctx.c_name)
        names = [f.name for f in ctx.fields]
        assert set(names) <= set(members), set(names) - set(members)
        # In the kernel's order, so offsets grow as the table says.
        assert names == [m for m in members if m in names]
        offsets = [f.offset for f in ctx.fields]
        assert offsets == sorted(offsets)


def helper_ids() -> dict[str, int]:
    mapper = re.search(r"#define __BPF_FUNC_MAPPER\(FN\)(.*?)\n\n", BPF_H.read_text(), re.S)
    assert mapper is not None
    names = re.findall(r"FN\((\w+)", mapper.group(1))
    return {name: number for number, name in enumerate(names)}


def test_helper_numbers_match_bpf_h_and_are_exported() -> None:
    ids = helper_ids()
    for helper in hooks.HELPERS.values():
        assert ids[helper.name] == helper.func_id, helper.name
        # Helpers called as functions are exported under their own name.
        assert (helper.name in pybpfc.__all__) == (helper.call == "function"), helper.name
        # every hook that lists it may call it; at least one does
        assert any(helper.name in h.helpers for h in hooks.HOOKS), helper.name


def test_map_kinds_match_bpf_h_and_lang() -> None:
    map_types = enum_values("bpf_map_type")
    for name, number in hooks.MAP_TYPES.items():
        assert map_types[name] == number, name
    text = BPF_H.read_text()
    assert re.search(r"BPF_F_NO_PREALLOC\s*=\s*\(1U << 0\)", text)
    assert re.search(r"BPF_F_CLONE\s*=\s*\(1U << 9\)", text)
    assert (hooks.BPF_F_NO_PREALLOC, hooks.BPF_F_CLONE) == (1 << 0, 1 << 9)
    for name, value in hooks.UPDATE_FLAGS.items():
        assert re.search(rf"{name}\s*=\s*{value},", text), name
    for kind in hooks.MAP_KINDS.values():
        cls = getattr(lang, kind.python_name)
        assert kind.python_name in pybpfc.__all__
        for method, helper in kind.methods:
            assert callable(getattr(cls, method)), (kind.python_name, method)
            assert hooks.HELPERS[helper].call == "method"
