"""pybpfc.abi.system, the Linux numbers outside linux/bpf.h, agrees with
Debian's uapi headers, each number with the header its table row names."""
from __future__ import annotations

import platform
import re
from pathlib import Path

import pytest

from pybpfc.abi import system
from tests.compiler.test_abi_tables import parse_bpf_h
from tests.support import require_kernel_feature

INCLUDE = Path("/usr/include")


def header_values(relative: str) -> dict[str, int]:
    path = INCLUDE / relative
    require_kernel_feature(relative, path.is_file(), f"{path} is not installed")
    text = path.read_text()
    # if.h's enum holds conditionals; securebits.h builds its bits with a
    # function-like macro.
    text = re.sub(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b.*$", "", text, flags=re.M)
    return parse_bpf_h(re.sub(r"\bissecure_mask\(", "(1 << ", text))


@pytest.mark.parametrize("header", sorted(system.HEADERS))
def test_numbers_equal_their_header(header: str) -> None:
    values = header_values(header)
    names = system.HEADERS[header]
    assert {name: getattr(system, name) for name in names} == {
        name: values.get(name) for name in names}


def test_every_number_names_its_header_or_why_it_has_none() -> None:
    listed = {name for names in system.HEADERS.values() for name in names}
    numbers = {name for name, value in vars(system).items()
               if re.fullmatch(r"[A-Z][A-Z0-9_]+", name) and type(value) is int}
    assert numbers - listed == {"ENOTSUPP"}      # kernel-internal: no uapi header


def test_getppid_number_is_this_machines() -> None:
    unistd = INCLUDE / f"{platform.machine()}-linux-gnu" / "asm" / "unistd_64.h"
    require_kernel_feature("asm/unistd_64.h", unistd.is_file(), f"{unistd} is not installed")
    found = re.search(r"#define __NR_getppid (\d+)", unistd.read_text())
    assert found is not None
    assert system.GETPPID_SYSCALL_NUMBERS[platform.machine()] == int(found.group(1))
