"""The compiler reads a program; it never imports or runs it."""
from __future__ import annotations

from pathlib import Path

import pytest

from kernel import pybpfc_cli

PROGRAMS = {
    "module_call": "open({path!r}, 'w').write('ran')\n",
    "global_initialiser": "from pybpfc import u32\nx: u32 = open({path!r}, 'w').write('ran')\n",
    "decorator_argument": (
        "from pybpfc import cgroup_sysctl, SysctlContext, ALLOW\n"
        "@cgroup_sysctl(open({path!r}, 'w'))\n"
        "def f(ctx: SysctlContext) -> int:\n    return ALLOW\n"),
    "import_side_effect": "import os\nos.system('touch {path}')\n",
    "function_body": (
        "from pybpfc import cgroup_sysctl, SysctlContext, ALLOW\n"
        "@cgroup_sysctl\n"
        "def f(ctx: SysctlContext) -> int:\n    open({path!r}, 'w')\n    return ALLOW\n"),
}


@pytest.mark.parametrize("command", ["check", "build"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_compiling_never_runs_the_program(name: str, command: str, tmp_path: Path) -> None:
    marker = tmp_path / "created-by-the-program"
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAMS[name].format(path=str(marker)))
    result = pybpfc_cli(command, str(prog))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not marker.exists()
