"""pybpfc's parser runs the LALR tables lark makes from grammar.lark, without
importing lark (pybpfc/compiler/lalr.py, grammar_tables.py).  These tests
hold it to lark itself: over every program the tests have, generated ones
and broken ones, the tokens, the parse trees (node names, children, every
position) and where parsing stops are the ones lark gives.  Then: the
tables' cache is rebuilt whenever it does not hold this grammar's tables,
and a build with the cache in place never imports lark.

Run from the repository root: python -m pytest tests/compiler/test_lalr.py -q
"""
from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from lark import Lark
from lark import Token as LarkToken
from lark import Tree as LarkTree
from lark.exceptions import UnexpectedCharacters as LarkUnexpectedCharacters
from lark.exceptions import UnexpectedToken as LarkUnexpectedToken

from fuzz.choose import RandomChooser
from fuzz.programs import GENERATORS
from pybpfc.compiler import grammar_tables, lalr, syntax_errors
from pybpfc.compiler.indenter import Indenter, LayoutError
from pybpfc.compiler.lalr import Token, Tree

from tests.support import REPO_ROOT as ROOT
GRAMMAR = grammar_tables.GRAMMAR_PATH.read_text(encoding="utf-8")
GENERATED_PER_KIND = 150
SEED = 20261122


class _LarkIndenter:
    """pybpfc's post-lexer between lark's lexer and lark's parser; `text` is
    the text being parsed (the indenter measures indentation in it)."""
    always_accept = ()
    text = ""

    def process(self, stream: Any) -> Iterator[Any]:
        ours = (Token(t.type, str(t), t.start_pos, t.line, t.column,
                      t.end_line, t.end_column, t.end_pos) for t in stream)
        for t in Indenter().process(ours, self.text):
            yield LarkToken(t.type, str(t), t.start_pos, t.line, t.column,
                            t.end_line, t.end_column, t.end_pos)


def _lark(postlex: bool) -> Lark:
    return Lark(GRAMMAR, parser="lalr", lexer="basic", start="module",
                propagate_positions=True, maybe_placeholders=True,
                postlex=_LarkIndenter() if postlex else None)


@pytest.fixture(scope="module")
def lark_lexer() -> Lark:
    return _lark(postlex=False)


@pytest.fixture(scope="module")
def lark_parser() -> Lark:
    return _lark(postlex=True)


def _corpus() -> list[tuple[str, str]]:
    programs = []
    for folder in ("examples", "tests/bad", "tests/regressions", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            programs.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    for kind, generate in GENERATORS.items():
        for i in range(GENERATED_PER_KIND):
            programs.append((f"{kind} {SEED + i}", generate(RandomChooser(SEED + i))))
    for label, snippets in syntax_errors.ERROR_EXAMPLES:
        programs += [(label, snippet) for snippet in snippets]
    programs += [
        ("empty", ""), ("comments only", "# a\n\n   # b\n"),
        ("unclosed", "x = f(1,\n"), ("bad character", "x = 1 $ 2\n"),
        ("tabs and spaces", "if x:\n\tif y:\n        pass\n"),
        ("continuation", "x = 1 + \\\n    2\n"), ("keyword prefix", "iffy = ifx + in_\n"),
        ("strings", "x = b'a' rb\"\\d\" '''x\ny'''\n"), ("dedent to nowhere", "if x:\n    y\n  z\n"),
        ("soft keywords", "match = 1\nmatch x:\n    case 1:\n        pass\ncase = 2\n"),
    ]
    return programs


CORPUS = _corpus()


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") + "\n"


def _token(token: Any) -> tuple:
    return (token.type, str(token), token.start_pos, token.line, token.column,
            token.end_line, token.end_column, token.end_pos)


def _meta(meta: Any) -> dict[str, Any]:
    names = getattr(type(meta), "__slots__", None) or vars(meta)   # ours has slots, lark's not
    return {k: getattr(meta, k) for k in names if not k.startswith("_") and hasattr(meta, k)}


def _shape(node: Any) -> Any:
    if isinstance(node, (Tree, LarkTree)):
        return (node.data, _meta(node.meta), [_shape(child) for child in node.children])
    if isinstance(node, (Token, LarkToken)):
        return _token(node)
    assert node is None, node
    return None


def test_corpus_is_large_and_has_both_valid_and_broken_programs(lark_parser: Lark) -> None:
    parsed = broken = 0
    for _, text in CORPUS:
        _LarkIndenter.text = _normalise(text)
        try:
            lark_parser.parse(_LarkIndenter.text)
            parsed += 1
        except Exception:
            broken += 1
    assert len(CORPUS) > 500
    assert parsed > 200 and broken > 100, (parsed, broken)


def test_tokens_are_lark_tokens(lark_lexer: Lark) -> None:
    tables, lexer = lalr.language()
    for name, text in CORPUS:
        text = _normalise(text)
        ours: list[Any] = []
        try:
            ours = [_token(t) for t in lexer.lex(text)]
            ours_error = None
        except lalr.UnexpectedCharacters as err:
            ours_error = (err.pos_in_stream, err.line, err.column)
        theirs: list[Any] = []
        try:
            theirs = [_token(t) for t in lark_lexer.lex(text)]
            theirs_error = None
        except LarkUnexpectedCharacters as err:
            theirs_error = (err.pos_in_stream, err.line, err.column)
        assert ours_error == theirs_error, name
        if ours_error is None:
            assert ours == theirs, name


def test_trees_and_syntax_errors_are_lark_s(lark_parser: Lark) -> None:
    tables, lexer = lalr.language()
    for name, text in CORPUS:
        text = _normalise(text)
        try:
            ours = ("tree", _shape(lalr.parse(tables, Indenter().process(lexer.lex(text), text))))
        except lalr.UnexpectedToken as err:
            ours = ("token", _token(err.token), sorted(err.expected))
        except lalr.UnexpectedCharacters as err:
            ours = ("characters", err.pos_in_stream)
        except LayoutError as err:
            ours = ("layout", err.message, err.pos)
        _LarkIndenter.text = text
        try:
            theirs = ("tree", _shape(lark_parser.parse(text)))
        except LarkUnexpectedToken as err:
            theirs = ("token", _token(err.token), sorted(err.expected))
        except LarkUnexpectedCharacters as err:
            theirs = ("characters", err.pos_in_stream)
        except LayoutError as err:
            theirs = ("layout", err.message, err.pos)
        assert ours == theirs, name


def test_error_labels_need_the_same_state_and_token_kind() -> None:
    # The labels hang on LALR state numbers of the cached tables: each
    # snippet, parsed now, still stops where its label says.
    for label, snippets in syntax_errors.ERROR_EXAMPLES:
        for snippet in snippets:
            error = syntax_errors.example_error(snippet)
            assert error is not None, snippet
            assert syntax_errors.matching_label(error) == label, snippet


# ------------------------------------------------------------------ the cache

def _run_build(env: dict[str, str], tmp_path: Path, probe: str = "") -> subprocess.CompletedProcess:
    code = ("import sys\n"
            "from pybpfc.compiler.driver import compile_source\n"
            "from pybpfc.compiler.errors import Source\n"
            f"p = {str(ROOT / 'examples' / 'deny_ttl.py')!r}\n"
            "compile_source(Source(p, open(p).read()))\n" + probe)
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def _env_with_cache_home(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"),
               PYTHONPATH=str(ROOT))
    return env


def test_a_build_with_the_tables_cached_does_not_import_lark(tmp_path: Path) -> None:
    env = _env_with_cache_home(tmp_path)
    first = _run_build(env, tmp_path)
    assert first.returncode == 0, first.stderr
    probe = "print(sorted(m for m in sys.modules if m.split('.')[0] == 'lark'))\n"
    second = _run_build(env, tmp_path, probe)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "[]"


def test_a_cache_of_another_grammar_or_damaged_is_rebuilt(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "tables.marshal"
    monkeypatch.setattr(grammar_tables, "cache_file", lambda: cache)
    built = grammar_tables.load()
    data = marshal.loads(cache.read_bytes())
    assert data["grammar"] == GRAMMAR

    # Another grammar's tables (here: the actions of an empty state table)
    # are never used for this grammar.
    cache.write_bytes(marshal.dumps(dict(data, grammar=GRAMMAR + "// other\n", actions=[])))
    assert len(grammar_tables.load().actions) == len(built.actions)
    assert marshal.loads(cache.read_bytes())["grammar"] == GRAMMAR

    for damaged in (b"", b"\x00garbage", marshal.dumps([1, 2]),
                    marshal.dumps(dict(data, rules=[("too", "short")])),
                    marshal.dumps(dict(data, format=grammar_tables.FORMAT + 1))):
        cache.write_bytes(damaged)
        assert len(grammar_tables.load().rules) == len(built.rules)
        # rebuilt: lark may number the states differently each time
        rebuilt = marshal.loads(cache.read_bytes())
        assert rebuilt["grammar"] == GRAMMAR and rebuilt["format"] == grammar_tables.FORMAT
        assert len(rebuilt["actions"]) == len(data["actions"])


def test_without_a_writable_cache_the_tables_are_built_each_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grammar_tables, "cache_file", lambda: None)
    tables = grammar_tables.load()
    assert tables.rules and tables.actions
    assert not list(tmp_path.iterdir())


def test_cache_directory_falls_back_to_the_user_cache(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "package"
    package.mkdir()
    (package / "__pycache__").mkdir(mode=0o500)
    monkeypatch.setattr(grammar_tables, "GRAMMAR_PATH", package / "grammar.lark")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    if os.geteuid() == 0:
        # root writes anywhere; a file where the directory should be is unwritable.
        (package / "__pycache__").rmdir()
        (package / "__pycache__").write_text("")
    assert grammar_tables.cache_file() == (
        tmp_path / "home-cache" / "pybpfc" / grammar_tables.cache_file().name)


def test_a_user_who_cannot_write_reads_the_tables_beside_the_modules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As nobody runs `pybpfc simulate` with root's installation: no cache it
    may write, no lark, and the tables root's runs left next to the modules."""
    package = tmp_path / "package"
    (package / "__pycache__").mkdir(parents=True)
    (package / "grammar.lark").write_text(GRAMMAR, encoding="utf-8")
    beside = package / "__pycache__" / grammar_tables.cache_name()
    grammar_tables._write(beside, grammar_tables.build(GRAMMAR))
    monkeypatch.setattr(grammar_tables, "GRAMMAR_PATH", package / "grammar.lark")
    monkeypatch.setattr(grammar_tables, "cache_file", lambda: None)

    def no_lark(grammar: str) -> None:
        raise ModuleNotFoundError("No module named 'lark'")
    monkeypatch.setattr(grammar_tables, "build", no_lark)
    assert grammar_tables.load().actions
