"""The tutorial's notebook, run by a Jupyter kernel (nbclient) against the
real kernel: the %%pybpfc magic compiles, attaches, runs, shows and
detaches, and leaves nothing behind."""
from __future__ import annotations

from typing import Any

import pytest

from pybpfc.runtime.cgroup import cgroup2_root
from tests.support import REPO_ROOT, require_root

pytestmark = pytest.mark.kernel

NOTEBOOK = REPO_ROOT / "docs" / "tutorial" / "notebook.ipynb"


def stream(cell: Any, name: str) -> str:
    return "".join(o["text"] for o in cell.outputs
                   if o["output_type"] == "stream" and o["name"] == name)


def shown(cell: Any, mime: str) -> str:
    return "".join(o["data"][mime] for o in cell.outputs
                   if o["output_type"] in ("execute_result", "display_data")
                   and mime in o["data"])


def run_cgroups() -> set[str]:
    return {p.name for p in cgroup2_root().iterdir() if p.name.startswith("pybpfc-run-")}


def test_the_notebook_runs_and_shows_what_the_hooks_did() -> None:
    require_root("the notebook's hooks")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    before = run_cgroups()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    load, once, mistake, kept, run, tables, detach = code

    assert not load.outputs
    assert stream(once, "stdout").splitlines()[1:] == [
        "new socket: family 2 type 1", "new socket: family 2 type 2",
        "new socket: family 10 type 2", "python3 exited with status 0"]
    assert stream(once, "stdout").startswith("pybpfc: attached show_sockets to ")
    text = shown(once, "text/plain")
    assert "map by_type\n" in text and "  1: 1\n" in text and "  2: 2\n" in text
    assert "histogram kinds_hist (3 values)\n[1]" in text
    page = shown(once, "text/html")
    assert "<caption>map by_type</caption>" in page and "<td>2</td>" in page
    assert "<svg" in page and "histogram kinds_hist (3 values)" in page

    error = stream(mistake, "stderr")
    assert error.startswith("<cell bpf>:7:9: error: ctx.family is read-only in a "
                            "@cgroup_sock_create hook\n"
                            "        ctx.family = 2\n"
                            "            ^~~~~~\n"), error
    assert not stream(mistake, "stdout")

    assert stream(kept, "stdout").startswith("pybpfc: attached one_socket to ")
    assert stream(run, "stdout") == ("0 ok\n1 Operation not permitted\n"
                                     "2 Operation not permitted\n"
                                     "python3 exited with status 0\n")
    assert shown(run, "text/plain") == "0"
    assert "globals\n  limit: 1\n  made: 3" in shown(tables, "text/plain")
    assert not detach.outputs
    assert run_cgroups() == before
