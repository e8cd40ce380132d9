"""grammar.lark's LALR(1) tables: made by lark, kept in a cache file.

lark reads grammar.lark and computes its lexer and LALR(1) parse table;
that takes about a second, and importing lark itself is a good part of a
build's time, so the result is written as plain data (marshal) to a cache
file, which :func:`load` reads back in a few milliseconds.  :mod:`.lalr` runs
the tables.  The cache holds the grammar's text; a different grammar (or a
damaged or foreign file) is rebuilt, never trusted.
"""
from __future__ import annotations

import marshal
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple, Optional

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")
START = "module"
# Bumped whenever the layout of the cached data changes.
FORMAT = 2


class Rule(NamedTuple):
    """One alternative of a grammar rule, as the parser reduces it."""
    name: str             # the tree node's name: the alternative's alias or the rule's
    origin: str           # the rule's own name, for the goto after reducing
    size: int             # how many symbols the alternative has
    # The children the tree keeps, in order: (index among the symbols,
    # splice the child's own children (a `_rule`), Nones to put before it).
    keep: tuple[tuple[int, bool, int], ...]
    trailing_nones: int   # absent `[x]` at the end
    inline_single: bool   # a `?rule`: one child stands for the node
    passes_through: bool  # a `?rule` of one kept symbol: its node is that child


class Tables:
    """Everything :mod:`.lalr` needs to lex and parse."""
    __slots__ = ("scanner", "ignore", "keywords", "patterns", "actions",
                 "start_state", "end_state", "rules")

    def __init__(self, data: dict[str, Any]):
        # (terminal, regular expression), in the order the lexer tries them
        self.scanner: list[tuple[str, str]] = data["scanner"]
        self.ignore: list[str] = data["ignore"]
        # terminal -> {its exact text -> the keyword terminal it is instead}
        self.keywords: dict[str, dict[str, str]] = data["keywords"]
        # terminal -> its text (a string terminal) or regular expression
        self.patterns: dict[str, str] = data["patterns"]
        # state -> {symbol -> action}: shift to state N is N (0 or more),
        # reduce by rule R is -R - 1.  Kept as read: decoding every entry
        # up front would cost more than the parse.
        self.actions: list[dict[str, int]] = data["actions"]
        self.start_state: int = data["start_state"]
        self.end_state: int = data["end_state"]
        self.rules: list[Rule] = [Rule(*fields) for fields in data["rules"]]


def load() -> Tables:
    """The tables of grammar.lark: from the cache when it holds this grammar's,
    else built with lark (and cached when a cache directory is writable)."""
    grammar = GRAMMAR_PATH.read_text(encoding="utf-8")
    cache = cache_file()
    # With no cache of its own to write, a user reads the tables next to
    # the modules (an installation's, read as its bytecode is).
    known = cache if cache is not None else \
        GRAMMAR_PATH.parent / "__pycache__" / cache_name()
    data = _read(known, grammar)
    if data is not None:
        return Tables(data)
    data = build(grammar)
    if cache is not None:
        _write(cache, data)
    return Tables(data)


def cache_name() -> str:
    return f"grammar.tables-{FORMAT}.{sys.implementation.cache_tag}.marshal"


def cache_file() -> Optional[Path]:
    """Next to the compiled modules, as Python keeps its bytecode, else in the
    user's cache directory; None when neither is writable.  Never a shared
    temporary directory, whose files anyone could have written."""
    name = cache_name()
    home_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    for directory in (GRAMMAR_PATH.parent / "__pycache__", Path(home_cache) / "pybpfc"):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK):
            return directory / name
    return None


def _read(cache: Path, grammar: str) -> Optional[dict[str, Any]]:
    try:
        data = marshal.loads(cache.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("grammar") != grammar:
        return None
    try:
        tables = Tables(data)  # every field there, every rule complete
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    states = len(tables.actions)
    if not (isinstance(tables.actions, list) and all(isinstance(a, dict) for a in tables.actions)
            and 0 <= tables.start_state < states and 0 <= tables.end_state < states):
        return None
    return data


def _write(cache: Path, data: dict[str, Any]) -> None:
    # Write a whole new file and rename it into place, so that a concurrent
    # build never reads half a file.
    import tempfile  # only when the tables were just built
    try:
        fd, temporary = tempfile.mkstemp(dir=cache.parent, prefix=cache.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(marshal.dumps(data))
            os.chmod(temporary, 0o644)  # readable by all, as Python's bytecode is
            os.replace(temporary, cache)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass  # no cache this time; the tables are still used


# ------------------------------------------------------------- with lark

def build(grammar: str) -> dict[str, Any]:
    """Have lark analyse `grammar`, and keep what parsing needs as plain data."""
    import lark as lark_package
    from lark import Lark

    lark = Lark(grammar, parser="lalr", lexer="basic", start=START,
                propagate_positions=True, maybe_placeholders=True)
    try:
        table = lark.parser.parser._parse_table  # not public, hence the check
    except AttributeError:
        raise RuntimeError(f"lark {lark_package.__version__} keeps its LALR table elsewhere "
                           "than pybpfc expects (lark 1.3 does)") from None
    rule_index = {rule: i for i, rule in enumerate(lark.rules)}
    actions = []
    for state in range(len(table.states)):
        row = {}
        for symbol, (action, argument) in table.states[state].items():
            if action.name == "Shift":
                row[str(symbol)] = argument
            else:
                row[str(symbol)] = -rule_index[argument] - 1
        actions.append(row)
    scanner, keywords = _scanner(lark.terminals)
    return {
        "format": FORMAT,
        "grammar": grammar,
        "scanner": scanner,
        "ignore": [str(name) for name in lark.ignore_tokens],
        "keywords": keywords,
        "patterns": {str(t.name): str(t.pattern.value) for t in lark.terminals},
        "actions": actions,
        "start_state": table.start_states[START],
        "end_state": table.end_states[START],
        "rules": [_rule(rule) for rule in lark.rules],
    }


def _scanner(terminals: list) -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    """lark's basic lexer, as data.  Terminals are tried by priority, then the
    longest possible match, then the longest pattern, then name.  A string
    terminal that a regular expression of the same priority matches whole
    (a keyword, which NAME matches) is not tried itself: a token of that
    expression whose text is exactly the string becomes the string's."""
    import re

    ordered = sorted(terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                               -len(t.pattern.value), t.name))
    strings = [t for t in ordered if t.pattern.type == "str"]
    keywords: dict[str, dict[str, str]] = {}
    embedded = set()
    for regexp in (t for t in ordered if t.pattern.type == "re"):
        for string in strings:
            if string.priority != regexp.priority:
                continue
            text = string.pattern.value
            found = re.match(regexp.pattern.to_regexp(), text)
            if found is None or found.group() != text:
                continue
            if string.pattern.flags:
                raise ValueError(f"grammar: keyword {string.name} has flags, "
                                 "which the keyword table cannot express")
            keywords.setdefault(str(regexp.name), {}).setdefault(str(text), str(string.name))
            if string.pattern.flags <= regexp.pattern.flags:
                embedded.add(string.name)
    scanner = [(str(t.name), str(t.pattern.to_regexp())) for t in ordered
               if t.name not in embedded]
    return scanner, keywords


def _rule(rule: Any) -> tuple:
    """lark's tree shaping for one alternative, as data."""
    options = rule.options
    expansion = rule.expansion
    # How many Nones stand for absent `[x]` before each symbol and at the end.
    nones_before = [0] * (len(expansion) + 1)
    if options.empty_indices:
        marks = "".join("1" if empty else "0" for empty in options.empty_indices)
        nones_before = [len(run) for run in marks.split("0")]
    keep = []
    pending = 0
    for i, symbol in enumerate(expansion):
        pending += nones_before[i]
        if options.keep_all_tokens or not (symbol.is_term and symbol.filter_out):
            splice = not symbol.is_term and symbol.name.startswith("_")
            keep.append((i, splice, pending))
            pending = 0
    pending += nones_before[len(expansion)]
    name = rule.alias or options.template_source or rule.origin.name
    # lark's names are str subclasses; marshal keeps only plain data.
    inline_single = bool(options.expand1 and not rule.alias)
    passes_through = (inline_single and len(expansion) == 1 and keep == [(0, False, 0)]
                      and pending == 0)
    return (str(name), str(rule.origin.name), len(expansion), tuple(keep), pending,
            inline_single, passes_through)
