"""`pybpfc objdump --html`, seen in a real browser.

The page is rendered by headless Chromium into a screenshot, which is read
back two ways: its words, by OCR (tesseract), must hold the program's
source and the verifier's register states; and the pixels behind those
words must have the page's colours (a state's pale blue, a refused line's
red edge).  A blank page has no words, and an unstyled one none of the
colours.  Chromium runs with a fresh profile in a temporary directory, no
network, and its HOME there.
"""
from __future__ import annotations

import collections
import itertools
import os
import re
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import REPO_ROOT, find_tool, pybpfc_cli, require_kernel_feature, require_root

FIRST_BYTE = REPO_ROOT / "tests" / "refusals" / "first_byte.py"      # unbroken
INFINITE_LOOP = REPO_ROOT / "tests" / "refusals" / "infinite_loop.py"

# The page's colours (runtime/objdump_html.py's style).
STATE_BACKGROUND = (0xEA, 0xF2, 0xFF)
ERROR_EDGE = (0xC6, 0x28, 0x28)
SCALE = 2          # device pixels per CSS pixel: sharper text for OCR


# ------------------------------------------------------------ the browser


def tool(name: str) -> str:
    path = find_tool(name)
    require_kernel_feature(name, path is not None,
                           f"{name} is not installed (make venv installs it)")
    assert path is not None
    return path


def screenshot(page: Path, png: Path, width: int = 1100, height: int = 1000) -> None:
    with tempfile.TemporaryDirectory(prefix="pybpfc-chromium-") as profile:
        env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile)
        result = subprocess.run(
            [tool("chromium"), "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--no-first-run", f"--user-data-dir={profile}",
             f"--force-device-scale-factor={SCALE}", f"--window-size={width},{height}",
             f"--screenshot={png}", page.as_uri()],
            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0 and png.exists(), result.stderr


@dataclass(frozen=True)
class Word:
    text: str
    left: int
    top: int
    width: int
    height: int


def ocr(png: Path) -> list[Word]:
    """The words tesseract reads in the screenshot, with their boxes."""
    result = subprocess.run([tool("tesseract"), str(png), "-", "tsv"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    words = []
    for row in result.stdout.splitlines()[1:]:
        fields = row.split("\t")
        if len(fields) == 12 and fields[11].strip():
            words.append(Word(fields[11], *map(int, fields[6:10])))
    return words


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------- the pixels


class Image:
    """An 8-bit RGB or RGBA PNG, as Chromium writes them, decoded."""

    def __init__(self, path: Path):
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        chunks, at = [], 8
        while at < len(data):
            length, kind = struct.unpack_from(">I4s", data, at)
            chunks.append((kind, data[at + 8:at + 8 + length]))
            at += 12 + length
        header = next(body for kind, body in chunks if kind == b"IHDR")
        self.width, self.height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB",
                                                                               header)
        assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
        self.bpp = 3 if color == 2 else 4
        raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
        self.rows = self._unfilter(raw)

    def _unfilter(self, raw: bytes) -> list[bytes]:
        stride, bpp = self.width * self.bpp, self.bpp
        rows, previous = [], bytes(stride)
        for y in range(self.height):
            kind = raw[y * (stride + 1)]
            line = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
            if kind == 0:
                row = bytes(line)
            elif kind == 1:
                out = bytearray(stride)
                for c in range(bpp):
                    out[c::bpp] = bytes(itertools.accumulate(line[c::bpp],
                                                             lambda a, b: (a + b) & 255))
                row = bytes(out)
            elif kind == 2:
                row = bytes((a + b) & 255 for a, b in zip(line, previous))
            else:
                out = bytearray(line)
                for i in range(stride):
                    left = out[i - bpp] if i >= bpp else 0
                    up = previous[i]
                    if kind == 3:
                        out[i] = (out[i] + ((left + up) >> 1)) & 255
                        continue
                    corner = previous[i - bpp] if i >= bpp else 0
                    p = left + up - corner
                    near = min((abs(p - left), 0, left), (abs(p - up), 1, up),
                               (abs(p - corner), 2, corner))[2]
                    out[i] = (out[i] + near) & 255
                row = bytes(out)
            rows.append(row)
            previous = row
        return rows

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        at = x * self.bpp
        return tuple(self.rows[y][at:at + 3])  # type: ignore[return-value]

    def most_common(self, word: Word) -> tuple[int, int, int]:
        """The colour most of a word's box has: its background."""
        counts = collections.Counter(self.pixel(x, y)
                                     for y in range(word.top, word.top + word.height)
                                     for x in range(word.left, word.left + word.width))
        return counts.most_common(1)[0][0]


def near(color: tuple[int, int, int], wanted: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 6 for a, b in zip(color, wanted))


def find(words: list[Word], *texts: str) -> list[Word]:
    """The words ``texts``, one after another as OCR read them."""
    for i in range(len(words) - len(texts) + 1):
        if all(words[i + j].text == text for j, text in enumerate(texts)):
            return words[i:i + len(texts)]
    raise AssertionError(f"no {' '.join(texts)!r} in: {' / '.join(w.text for w in words)}")


def beside(words: list[Word], word: Word) -> list[Word]:
    """The words on the page's row through ``word``, left to right (OCR
    may read columns apart)."""
    middle = word.top + word.height // 2
    return sorted((w for w in words if abs(w.top + w.height // 2 - middle) <= word.height // 2),
                  key=lambda w: w.left)


# ------------------------------------------------------------------ tests


def render(tmp_path: Path, *args: object) -> tuple[str, list[Word], Image]:
    result = pybpfc_cli("objdump", "--html", *args)
    assert result.returncode == 0, result.stderr
    page = tmp_path / "page.html"
    page.write_text(result.stdout)
    png = tmp_path / "page.png"
    screenshot(page, png)
    return result.stdout, ocr(png), Image(png)


def test_the_page_needs_nothing_from_elsewhere() -> None:
    result = pybpfc_cli("objdump", "--html", FIRST_BYTE)
    assert result.returncode == 0, result.stderr
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for outside in ("http:", "https:", "src=", "<link", "@import", "url(", "<script"):
        assert outside not in page
    # Without --load: the source, each line's instructions, no states.
    assert "sysctl_get_current_value(ctx, text)" in page
    assert "call bpf_sysctl_get_current_value#102" in page
    assert 'class="state"' not in page


@pytest.mark.kernel
def test_a_loaded_program_shows_the_source_and_the_verifiers_states(tmp_path: Path) -> None:
    require_root("loading programs")
    page, words, image = render(tmp_path, "--load", FIRST_BYTE)
    assert "R1=scalar(smin=smin32=0,smax=umax=smax32=umax32=255" in page
    seen = squeezed(" ".join(w.text for w in words))
    # The source, line by line, and the instructions under it.
    assert "text=bytearray(8)" in seen
    assert "iftext[0]==0:" in seen
    assert "call bpf_sysctl_get_current_value".replace(" ", "") in seen
    assert "Theverifieracceptedit" in seen
    # Where the byte read from the stack became a number in [0, 255]:
    # beside its instruction, on the state's pale blue.
    state = find(words, "R1", "=", "a", "number", "in", "[0,", "255]")
    row = beside(words, state[0])
    instruction = next(w for w in row if w.text == "*(u8")
    assert instruction.left + instruction.width < state[0].left
    assert near(image.most_common(state[3]), STATE_BACKGROUND), image.most_common(state[3])
    # The source line itself is on the page's white.
    source = find(words, "if", "text[0]", "==", "0:")
    assert near(image.most_common(source[1]), (255, 255, 255)), image.most_common(source[1])


@pytest.mark.kernel
def test_a_refused_program_shows_why_at_its_line(tmp_path: Path) -> None:
    require_root("loading programs")
    page, words, image = render(tmp_path, "--load", INFINITE_LOOP)
    assert "infinite loop detected at insn" in page
    seen = squeezed(" ".join(w.text for w in words))
    assert "error:thisloopcanneverend" in seen
    assert "refusedhere:infiniteloopdetected" in seen
    # The line that caused it has the error's red edge at its left.
    line = find(words, "7", "while", "ctx.file_pos", "<", "10:")[1:]
    y = line[0].top + line[0].height // 2
    edge = [image.pixel(x, y) for x in range(10 * SCALE, 40 * SCALE)]
    assert any(near(color, ERROR_EDGE) for color in edge), edge
