"""Testing a hook with pytest, without root or a kernel: the example
docs/simulate.md shows (a test holds the page to this file)."""
from pybpfc.simulate import Fakes, load_program

SOL_IP, IP_TTL, IP_TOS = 0, 2, 1


def test_deny_ttl_refuses_only_ttl() -> None:
    prog = load_program("examples/deny_ttl.py")

    refused = prog.deny_ttl(level=SOL_IP, optname=IP_TTL, optval=b"\x40\0\0\0")
    assert refused.verdict_name == "REJECT"        # setsockopt fails with EPERM
    assert refused.globals["refused"] == 1

    allowed = prog.deny_ttl(level=SOL_IP, optname=IP_TOS, optval=b"\x10\0\0\0")
    assert allowed.verdict_name == "ALLOW"
    assert allowed.written == {}                   # no field of the context changed
    assert prog.globals["refused"] == 1            # globals live on between runs


def test_one_udp_socket_at_a_time() -> None:
    prog = load_program("examples/udp_one_at_a_time.py", fakes=Fakes(cgroup_id=7))
    SOCK_DGRAM = 2

    assert prog.one_udp_socket(type=SOCK_DGRAM, socket=1).verdict_name == "ALLOW"
    assert prog.one_udp_socket(type=SOCK_DGRAM, socket=2).verdict_name == "REJECT"
    prog.udp_socket_closed(type=SOCK_DGRAM, socket=1)      # socket 1 is closed
    assert prog.one_udp_socket(type=SOCK_DGRAM, socket=3).verdict_name == "ALLOW"

    assert prog.maps["stats"][7] == {"created": 2, "refused": 1, "released": 1}


def test_the_page_shows_this_file() -> None:
    """docs/simulate.md's pytest example is this file's two tests."""
    from pathlib import Path
    here = Path(__file__).read_text()
    example = here[here.index("from pybpfc.simulate"):here.index("\n\n\ndef test_the_page")]
    page = (Path(__file__).resolve().parents[2] / "docs" / "simulate.md").read_text()
    assert f"```python\n{example}\n```" in page
