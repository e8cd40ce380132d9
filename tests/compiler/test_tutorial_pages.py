"""The tutorial's pages hang together: the index lists every lesson in
order, each lesson leads to the next, its code is the code in lessons/, and
every lesson file is run by a command a lesson shows.  (The commands
themselves run in tests/kernel/test_tutorial.py; this file also checks how
their output is compared.)"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.doc_commands import console_blocks, matches, normalize
from tests.support import REPO_ROOT

TUTORIAL = REPO_ROOT / "docs" / "tutorial"
INDEX = TUTORIAL / "README.md"
PAGES = sorted(TUTORIAL.glob("[0-9][0-9]-*.md"))
LESSON_FILES = sorted((TUTORIAL / "lessons").glob("*.py"))
COMING = "(coming)"
LINK = re.compile(r"\[[^\]]*\]\(([^)#\s]+)(?:#[^)]*)?\)")
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def is_stub(page: Path) -> bool:
    return COMING in page.read_text().splitlines()[0]


def test_the_tutorial_has_its_lessons_and_planned_pages() -> None:
    names = [p.stem for p in PAGES]
    assert names[:7] == ["01-hooks", "02-cgroups", "03-first-run", "04-maps", "05-verifier",
                         "06-byte-order", "07-print"]
    assert [p.stem for p in PAGES if is_stub(p)] == []


def test_the_index_lists_every_page_in_order() -> None:
    linked = [target for target in LINK.findall(INDEX.read_text())
              if re.fullmatch(r"\d\d-.*\.md", target)]
    assert linked == [p.name for p in PAGES]


@pytest.mark.parametrize("page", PAGES[:-1], ids=lambda p: p.stem)
def test_each_page_leads_to_the_next(page: Path) -> None:
    following = PAGES[PAGES.index(page) + 1]
    last = page.read_text().rstrip().splitlines()[-1]
    assert last.startswith("Next: [") and f"]({following.name})" in last, last


@pytest.mark.parametrize("page", [p for p in PAGES if not is_stub(p)], ids=lambda p: p.stem)
def test_each_lesson_ends_in_something_that_runs(page: Path) -> None:
    assert console_blocks(page), f"{page.name} shows no command"


@pytest.mark.parametrize("page", [INDEX, *PAGES, REPO_ROOT / "README.md"],
                         ids=lambda p: p.parent.name + "/" + p.stem)
def test_links_lead_to_files_that_exist(page: Path) -> None:
    for target in LINK.findall(page.read_text()):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_code_shown_is_the_lesson_code(page: Path) -> None:
    """Each Python block of a lesson is a run of whole lines of a file in
    lessons/, so the code a reader sees is the code the tests run."""
    sources = {path.name: path.read_text() for path in LESSON_FILES}
    for block in PYTHON_BLOCK.findall(page.read_text()):
        found = [name for name, text in sources.items() if f"\n{block}" in f"\n{text}"]
        assert found, f"{page.name}: this code is in no file of lessons/:\n{block}"


def test_every_lesson_file_is_run_by_a_lesson() -> None:
    commands = " ".join(command.text for page in PAGES for block in console_blocks(page)
                        for command in block.commands)
    unused = [p.name for p in LESSON_FILES if f"docs/tutorial/lessons/{p.name}" not in commands]
    assert not unused, f"no lesson runs {unused}"


def test_no_lesson_mounts_tracefs() -> None:
    """print()'s lines come through `pybpfc run`, which needs no tracefs
    mounted: no page asks the reader to mount it."""
    conditional = [command.text for page in PAGES for block in console_blocks(page)
                   if "when-tracefs-missing" in block.conditions for command in block.commands]
    assert conditional == []
    commands = [command.text for page in PAGES for block in console_blocks(page)
                for command in block.commands]
    assert not [c for c in commands if "tracefs" in c or "trace_pipe" in c]


# --------------------------------------------- how shown output is compared


def test_ids_pids_and_cgroup_names_may_differ() -> None:
    shown = normalize("pybpfc run: attached count to /sys/fs/cgroup/pybpfc-4242-0c5a1e7d\n"
                      "count: cgroup/sock_create, id 117, 6 instructions verified")
    actual = normalize("pybpfc run: attached count to /sys/fs/cgroup/unified/pybpfc-99-12345678\n"
                       "count: cgroup/sock_create, id 23052, 7 instructions verified",
                       cgroup_root=Path("/sys/fs/cgroup/unified"))
    assert matches(shown, actual)


def test_counts_and_names_may_not_differ() -> None:
    assert not matches(normalize("global sockets = 3"), normalize("global sockets = 4"))
    assert not matches(normalize("attached count_sockets to /x"),
                       normalize("attached no_udp to /x"))
    assert not matches(normalize("a\nb"), normalize("a\nb\nc"))


def test_dots_stand_for_lines_or_text() -> None:
    assert matches("first\n...\nlast", "first\nlast")
    assert matches("first\n...\nlast", "first\none\ntwo\nlast")
    assert matches("verifier: ...too large", "verifier: 18: (cd) if r6 s< r0 too large")
    assert not matches("first\n...\nlast", "first\none\nlater")
    assert not matches("verifier: ...too large", "verifier: too complex")


def test_a_hash_maps_entries_may_come_in_any_order() -> None:
    shown = "map by_type (2 entries)\n  1: 1\n  2: 2\nglobal total = 3"
    assert matches(normalize(shown),
                   normalize("map by_type (2 entries)\n  2: 2\n  1: 1\nglobal total = 3"))
    assert not matches(normalize(shown),
                       normalize("map by_type (2 entries)\n  2: 1\n  1: 2\nglobal total = 3"))


def test_trace_lines_may_differ_in_pid_cpu_and_time() -> None:
    shown = "  python3-6424  [000] ...11  1692.901119: bpf_trace_printk: new socket: family 2"
    assert matches(normalize(shown), normalize(
        "  python3-77  [001] .N.21  5.000001: bpf_trace_printk: new socket: family 2"))
    assert not matches(normalize(shown), normalize(
        "  python3-77  [001] .N.21  5.000001: bpf_trace_printk: new socket: family 10"))
