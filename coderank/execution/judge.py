"""Tests judged outside the sandbox (pure): the sandboxed run only *computes values*; whether a
test passed is decided here, on those values, against the test's literals, which never enter
the sandbox.

So an answer's code, which can read and rewrite everything in the process it runs in (the
harness, its report, its output), can claim any values it likes, but it cannot learn what they
are compared with: to pass ``assert add(1, 2) == 3`` it has to produce 3 for ``add(1, 2)``.

A test ``assert <expression>`` is split by :func:`split_test`: comparisons, ``and``/``or``/
``not`` and literals stay here; every other part (a call, a name, an arithmetic expression) is
a *probe*, evaluated in the sandbox, its value sent back by :data:`ENCODE_SOURCE`'s
``encode`` and read by :func:`decode`. What holds and what does not:

- A test whose literal side is compared with a probe (``f(x) == 3``, ``abs(f(x) - 1.5) < 1e-9``,
  ``f(x) in (1, 2)``, ``not f(x)``) is judged here; the code never sees the literal.
- A test with no literal at all (``f(1) == f(2)``, ``isinstance(f(x), list)``) is judged on the
  value the code returned for it: the code can claim ``True``.
- A check that is not an ``assert`` (an example with no expected output) passes when it runs
  without an exception, as the sandbox reports it.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 32
MAX_ITEMS = 100_000
ERROR_CHARS = 240  # of an error the run reported, or of why a test failed

# Sent into the sandbox: a value as JSON-safe [tag, payload] lists (tags below).
ENCODE_SOURCE = f"""
def encode(value):
    return _encode(value, 0, [{MAX_ITEMS}])

def _encode(value, depth, budget):
    if depth > {MAX_DEPTH}:
        raise ValueError("nested too deep")
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("too many items")
    kind = type(value)
    if value is None:
        return ["n"]
    if kind is bool:
        return ["b", value]
    if kind is int:
        return ["i", str(value)]
    if kind is float:
        return ["f", repr(value)]
    if kind is complex:
        return ["x", repr(value.real), repr(value.imag)]
    if kind is str:
        return ["s", value]
    if kind is bytes:
        return ["y", value.hex()]
    tags = {{list: "l", tuple: "t", set: "S", frozenset: "F"}}
    if kind in tags:
        return [tags[kind], [_encode(v, depth + 1, budget) for v in value]]
    if kind is dict:
        pairs = value.items()
        return ["d", [[_encode(k, depth + 1, budget), _encode(v, depth + 1, budget)]
                      for k, v in pairs]]
    return ["?", kind.__name__]
"""


class Unjudgeable(Exception):
    """A value that cannot be compared here (an object of the code's own class, say)."""


def decode(encoded: Any, depth: int = 0) -> Any:
    """The value an ``encode``d list stands for.

    Raises:
        Unjudgeable: it is not a value this module compares, or not a well-formed encoding.
    """
    if depth > MAX_DEPTH or not isinstance(encoded, list) or not encoded:
        raise Unjudgeable("a malformed value")
    tag, *rest = encoded
    try:
        match tag:
            case "n":
                return None
            case "b" if isinstance(rest[0], bool):
                return rest[0]
            case "i":
                return int(rest[0])
            case "f":
                return float(rest[0])
            case "x":
                return complex(float(rest[0]), float(rest[1]))
            case "s" if isinstance(rest[0], str):
                return rest[0]
            case "y":
                return bytes.fromhex(rest[0])
            case "l" | "t" | "S" | "F":
                items = [decode(v, depth + 1) for v in rest[0]]
                builder: Callable[[list[Any]], Any] = {
                    "l": list,
                    "t": tuple,
                    "S": set,
                    "F": frozenset,
                }[tag]
                return builder(items)
            case "d":
                return {decode(k, depth + 1): decode(v, depth + 1) for k, v in rest[0]}
            case "?":
                raise Unjudgeable(f"a {str(rest[0])[:40]} cannot be compared outside the sandbox")
    except (IndexError, TypeError, ValueError) as exc:
        raise Unjudgeable("a malformed value") from exc
    raise Unjudgeable("a malformed value")


@dataclass(frozen=True)
class Probe:
    """A part of a test evaluated in the sandbox: ``probes[index]`` of its test."""

    index: int


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Compare:
    left: Node
    ops: tuple[str, ...]
    rights: tuple[Node, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" or "or"
    values: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


Node = Probe | Literal | Compare | BoolOp | Not


@dataclass(frozen=True)
class SplitTest:
    """A test as the sandbox sees it (``probes``: expression sources, no literal that is compared
    with them) and as it is judged here (``tree``; None: a statement that must only run)."""

    probes: tuple[str, ...]
    tree: Node | None
    statement: str | None = None


_COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    # Values come back as copies: identity holds only for the singletons.
    "is": lambda a, b: a is b if _singleton(a) or _singleton(b) else a == b,
    "is not": lambda a, b: a is not b if _singleton(a) or _singleton(b) else a != b,
}


def _singleton(value: Any) -> bool:
    return value is None or value is True or value is False


def split_test(source: str) -> SplitTest:
    """``source`` (one check) split into what the sandbox computes and what is judged here."""
    try:
        tree = ast.parse(source, mode="exec")
    except (SyntaxError, ValueError):
        return SplitTest((), None, statement=source)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return SplitTest((), None, statement=source)
    probes: list[str] = []

    def split(node: ast.expr) -> Node:
        try:
            return Literal(ast.literal_eval(node))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            pass
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            return Compare(
                split(node.left),
                tuple(_COMPARE[type(op)] for op in node.ops),
                tuple(split(c) for c in node.comparators),
            )
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return BoolOp(op, tuple(split(v) for v in node.values))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Not(split(node.operand))
        probes.append(ast.unparse(node))
        return Probe(len(probes) - 1)

    judged = split(tree.body[0].test)  # fills ``probes``
    return SplitTest(tuple(probes), judged)


@dataclass(frozen=True)
class ProbeResult:
    """What the sandbox said of one probe: its encoded value, or the error it raised."""

    value: Any = None
    error: str | None = None


class _Failed(Exception):
    pass


def judge(test: SplitTest, results: Sequence[ProbeResult]) -> str | None:
    """None if ``test`` passed on these probe results, else why it failed (one line).

    Probes are looked at as Python evaluates: ``and``/``or`` and chained comparisons stop
    early, so a probe that raised where Python would never have evaluated it does not count."""
    if test.tree is None:
        raise ValueError("a statement is not judged here")
    if len(results) != len(test.probes):
        return "the run reported the wrong number of values"

    def value(node: Node) -> Any:
        match node:
            case Literal(v):
                return v
            case Probe(i):
                result = results[i]
                if result.error is not None:
                    raise _Failed(result.error)
                try:
                    return decode(result.value)
                except Unjudgeable as exc:
                    raise _Failed(f"{test.probes[i]}: {exc}") from exc
            case Not(operand):
                return not value(operand)
            case BoolOp("and", values):
                last: Any = True
                for v in values:
                    last = value(v)
                    if not last:
                        return last
                return last
            case BoolOp(_, values):
                last = False
                for v in values:
                    last = value(v)
                    if last:
                        return last
                return last
            case Compare(left, ops, rights):
                a = value(left)
                for op, right in zip(ops, rights, strict=True):
                    b = value(right)
                    try:
                        if not _OPERATORS[op](a, b):
                            return False
                    except (TypeError, ValueError) as exc:
                        raise _Failed(f"{type(exc).__name__}: {exc}") from exc
                    a = b
                return True
        raise ValueError(f"not a node: {node!r}")

    try:
        passed = value(test.tree)
    except _Failed as exc:
        return str(exc)[:ERROR_CHARS]
    except RecursionError:
        return "a value nested too deep to compare"
    if passed:
        return None
    return "AssertionError" + _shown(test, results)


def _shown(test: SplitTest, results: Sequence[ProbeResult]) -> str:
    """``: f(3) returned 7`` for a test with one probe that gave a value, else nothing (a
    doctest example's ``repr(f(3))`` is shown as ``f(3)`` and the repr it gave)."""
    if len(test.probes) != 1 or results[0].error is not None:
        return ""
    try:
        value = decode(results[0].value)
    except Unjudgeable:
        return ""
    probe = test.probes[0]
    if probe.startswith("repr(") and probe.endswith(")") and isinstance(value, str):
        probe, got = probe[len("repr(") : -1], value
    else:
        got = repr(value)
    return f": {probe} returned {got[:120]}"
