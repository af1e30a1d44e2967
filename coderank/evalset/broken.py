"""Broken answers made from a problem's reference, one kind at a time. Pure: whether each one is
really broken is decided by running the tests (:mod:`coderank.evalset.build`).

Kinds: a **subtle bug** (one operator, comparison, boolean or whole-number constant changed), the
**wrong problem** (another problem's reference), **unfinished** (the signature and ``pass``) and
a **crash** (the reference calling a helper that does not exist, as a model that invents a
function does).

Half the problems (seeded, ``has_docstring``) have every answer open with a docstring, the
problem's description (the wrong problem's answer: its own problem's), and the other half none.
So a docstring says nothing of the kind, as when only the unfinished stub had one, and the model
meets answers with and without them, as agents write them.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Iterator

from coderank.evalset import Problem

SUBTLE, WRONG_PROBLEM, UNFINISHED, CRASH = "subtle bug", "wrong problem", "unfinished", "crash"
KINDS = (SUBTLE, WRONG_PROBLEM, UNFINISHED, CRASH)
DOCSTRING_SHARE = 0.5  # of the problems, whose answers all carry a docstring

# One operator for another, each a plausible slip.
_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Add,
    ast.FloorDiv: ast.Mod,
    ast.Mod: ast.FloorDiv,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.And: ast.Or,
    ast.Or: ast.And,
}


def _sites(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Every place a single change can be made: (node, what changes)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp | ast.BoolOp) and type(node.op) in _SWAPS:
            yield node, "op"
        elif isinstance(node, ast.Compare) and type(node.ops[0]) in _SWAPS:
            yield node, "compare"
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            yield node, "constant"


def mutants(code: str, *, seed: int = 0) -> list[str]:
    """Every one-change variant of ``code`` (as source), in a seeded order."""
    count = sum(1 for _ in _sites(ast.parse(code)))
    result = []
    for index in range(count):
        tree = ast.parse(code)
        node, what = list(_sites(tree))[index]
        if what == "op":
            node.op = _SWAPS[type(node.op)]()  # type: ignore[attr-defined]
        elif what == "compare":
            assert isinstance(node, ast.Compare)
            node.ops[0] = _SWAPS[type(node.ops[0])]()
        else:
            assert isinstance(node, ast.Constant) and isinstance(node.value, int)
            node.value = node.value + 1
        variant = ast.unparse(tree)
        if variant != ast.unparse(ast.parse(code)) and variant not in result:
            result.append(variant)
    random.Random(seed).shuffle(result)
    return result


def unfinished(problem: Problem) -> str:
    return f"def {problem.signature}:\n    pass"


def crash(problem: Problem) -> str:
    first = problem.params.split(",")[0].strip() or "None"
    helper = f"    _validated = validate_{problem.name}({first})"
    return f"def {problem.signature}:\n{helper}\n" + "\n".join(f"    {b}" for b in problem.body)


def has_docstring(problem: Problem, *, seed: int, share: float = DOCSTRING_SHARE) -> bool:
    """Whether ``problem``'s answers carry a docstring: a seeded coin per problem."""
    return random.Random(f"docstring:{seed}:{problem.name}").random() < share


def with_docstring(code: str, description: str) -> str:
    """``code`` (normalised) with ``description`` as the docstring of its first function."""
    tree = ast.parse(code)
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    func.body.insert(0, ast.Expr(ast.Constant(description)))
    return ast.unparse(tree)


def wrong_problem(other: Problem) -> str:
    return other.reference


def as_answer(code: str) -> str:
    """An answer as an agent writes one: a code block and a sentence (the same for every kind,
    so the text around the code tells nothing)."""
    return f"```python\n{code}\n```\nThis function solves the problem as asked."
