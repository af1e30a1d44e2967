"""Synthetic preference pairs with a learnable signal: a working solution beats a broken one.

Each problem is a small Python function. The chosen answer implements it; the rejected one has the
same signature but is broken in one of several ways (``raise NotImplementedError``, ``pass``, a
``TODO``, ``return None``, a syntax error, a refusal, ...), sometimes longer than the working one,
so length alone does not tell them apart. Deterministic for a given ``seed``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from coderank.finetune.dataset import PreferencePair, write_pairs

AGENTS = ("concise_fixer", "explainer", "optimizer")

# name, parameters, what it does, a working body (its lines; indented by the generator)
SPECS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("add", "a, b", "returns the sum of a and b", ("return a + b",)),
    ("is_even", "n", "tells whether n is even", ("return n % 2 == 0",)),
    ("square_all", "xs", "squares every number in the list xs", ("return [x * x for x in xs]",)),
    ("reverse_text", "s", "returns the string s reversed", ("return s[::-1]",)),
    ("count_vowels", "s", "counts the vowels in s", ("return sum(c in 'aeiouAEIOU' for c in s)",)),
    ("max_of", "xs", "returns the largest item of a non-empty list", ("return max(xs)",)),
    (
        "factorial",
        "n",
        "computes n factorial",
        ("result = 1", "for k in range(2, n + 1):", "    result *= k", "return result"),
    ),
    (
        "fib",
        "n",
        "returns the n-th Fibonacci number",
        ("a, b = 0, 1", "for _ in range(n):", "    a, b = b, a + b", "return a"),
    ),
    (
        "is_palindrome",
        "s",
        "tells whether s reads the same backwards",
        ("t = s.lower()", "return t == t[::-1]"),
    ),
    ("word_count", "text", "counts the words in text", ("return len(text.split())",)),
    ("celsius_to_fahrenheit", "c", "converts Celsius to Fahrenheit", ("return c * 9 / 5 + 32",)),
    ("mean", "xs", "returns the average of a non-empty list", ("return sum(xs) / len(xs)",)),
    (
        "unique",
        "xs",
        "removes duplicates from xs keeping the first occurrences",
        (
            "seen = set()",
            "out = []",
            "for x in xs:",
            "    if x not in seen:",
            "        seen.add(x)",
            "        out.append(x)",
            "return out",
        ),
    ),
    ("flatten", "rows", "flattens a list of lists", ("return [x for row in rows for x in row]",)),
    (
        "is_prime",
        "n",
        "tells whether n is prime",
        ("if n < 2:", "    return False", "return all(n % d for d in range(2, int(n ** 0.5) + 1))"),
    ),
    (
        "gcd",
        "a, b",
        "returns the greatest common divisor of a and b",
        ("while b:", "    a, b = b, a % b", "return abs(a)"),
    ),
    (
        "capitalize_words",
        "text",
        "capitalizes every word in text",
        ("return ' '.join(w.capitalize() for w in text.split())",),
    ),
    (
        "sum_digits",
        "n",
        "sums the decimal digits of n",
        ("return sum(int(d) for d in str(abs(n)))",),
    ),
    (
        "chunk",
        "xs, size",
        "splits xs into lists of length size",
        ("return [xs[i:i + size] for i in range(0, len(xs), size)]",),
    ),
    ("merge_dicts", "a, b", "merges two dicts, b winning on shared keys", ("return {**a, **b}",)),
    (
        "clamp",
        "x, low, high",
        "limits x to the range low..high",
        ("return max(low, min(x, high))",),
    ),
    (
        "count_words",
        "text",
        "maps each word of text to how often it occurs",
        (
            "counts = {}",
            "for w in text.split():",
            "    counts[w] = counts.get(w, 0) + 1",
            "return counts",
        ),
    ),
    (
        "second_largest",
        "xs",
        "returns the second largest distinct number",
        ("return sorted(set(xs))[-2]",),
    ),
    (
        "is_anagram",
        "a, b",
        "tells whether a and b are anagrams",
        ("return sorted(a.replace(' ', '')) == sorted(b.replace(' ', ''))",),
    ),
    (
        "running_total",
        "xs",
        "returns the running totals of xs",
        (
            "total = 0",
            "out = []",
            "for x in xs:",
            "    total += x",
            "    out.append(total)",
            "return out",
        ),
    ),
    ("to_binary", "n", "returns the binary digits of a non-negative n", ("return bin(n)[2:]",)),
    ("title_case", "s", "turns s into title case", ("return s.title()",)),
    ("dedupe_spaces", "s", "collapses runs of spaces in s", ("return ' '.join(s.split())",)),
    (
        "nth_char",
        "s, n",
        "returns the n-th character of s or an empty string",
        ("return s[n] if 0 <= n < len(s) else ''",),
    ),
    (
        "product",
        "xs",
        "multiplies all numbers in xs",
        ("result = 1", "for x in xs:", "    result *= x", "return result"),
    ),
    (
        "only_positive",
        "xs",
        "keeps the positive numbers of xs",
        ("return [x for x in xs if x > 0]",),
    ),
    (
        "rotate",
        "xs, k",
        "rotates the list xs right by k places",
        ("if not xs:", "    return []", "k %= len(xs)", "return xs[-k:] + xs[:-k]"),
    ),
    (
        "char_freq",
        "s",
        "counts each character of s",
        ("from collections import Counter", "", "return dict(Counter(s))"),
    ),
    (
        "is_sorted",
        "xs",
        "tells whether xs is sorted ascending",
        ("return all(a <= b for a, b in zip(xs, xs[1:]))",),
    ),
    (
        "parse_int",
        "s",
        "parses s as an integer or returns None",
        ("try:", "    return int(s)", "except ValueError:", "    return None"),
    ),
    (
        "transpose",
        "matrix",
        "transposes a list of rows",
        ("return [list(col) for col in zip(*matrix)]",),
    ),
    (
        "longest_word",
        "text",
        "returns the longest word in text",
        ("return max(text.split(), key=len, default='')",),
    ),
    (
        "leap_year",
        "year",
        "tells whether year is a leap year",
        ("return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)",),
    ),
    (
        "safe_divide",
        "a, b",
        "divides a by b, returning None when b is zero",
        ("if b == 0:", "    return None", "return a / b"),
    ),
    (
        "initials",
        "name",
        "returns the initials of a full name",
        ("return ''.join(part[0].upper() for part in name.split())",),
    ),
)

TEMPLATES = (
    "Write a Python function `{sig}` that {desc}.",
    "Implement `{sig}`: it {desc}.",
    "I need a function `{sig}` which {desc}. Please write it in Python.",
    "Python question: how do I write `{sig}`, a function that {desc}?",
)

INTROS = ("", "Here is a solution.\n\n", "Sure! ", "This works:\n\n")
OUTROS = (
    "",
    "\n\nIt runs in linear time.",
    "\n\nThe function has no side effects.",
    "\n\nTests pass for the examples.",
)


def _indent(body: tuple[str, ...]) -> str:
    return "\n".join(f"    {line}" if line else "" for line in body)


def _fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def _docstring(desc: str) -> str:
    return f'"""{desc[0].upper()}{desc[1:]}."""'


def _broken(sig: str, desc: str, first: str, rng: random.Random) -> list[Callable[[], str]]:
    head = f"def {sig}:"
    doc = _docstring(desc)
    return [
        lambda: _fenced(f"{head}\n    {doc}\n    raise NotImplementedError"),
        lambda: _fenced(f"{head}\n    # TODO: implement this\n    pass"),
        lambda: f"TODO: I will write `{sig}` later, it is not done yet.",
        lambda: _fenced(f"{head}\n    {doc}\n    return None"),
        lambda: _fenced(f"def {sig}\n    {first.rstrip(':')} +\n    return (("),
        lambda: "I'm sorry, but I can't help with writing that function.",
        lambda: _fenced(f"{head}\n    pass"),
        lambda: _fenced(f"{head}\n    {doc}\n    while True:\n        pass"),
        lambda: (
            _fenced(f"{head}\n    # not implemented yet\n    ...\n    return None")
            + "\n\nYou will have to finish the rest of this function yourself."
        ),
        lambda: (
            _fenced(f"{head}\n    {doc}\n    raise NotImplementedError('TODO')")
            + "\n\nI left the body as a TODO."
        ),
        lambda: (
            _fenced(f"{head}\n    return undefined_helper({sig.split('(')[1][:-1]})")
            + f"\n\nThis calls a helper that still has to be written.{rng.choice(OUTROS)}"
        ),
    ]


def _problem(index: int) -> tuple[str, str, str]:
    """The query, signature and working code of problem ``index`` (unique for each index)."""
    name, params, desc, body = SPECS[index % len(SPECS)]
    variant = index // len(SPECS)
    if variant >= len(TEMPLATES):
        name = f"{name}_{variant // len(TEMPLATES) + 1}"
    sig = f"{name}({params})"
    query = TEMPLATES[variant % len(TEMPLATES)].format(sig=sig, desc=desc)
    return query, sig, f"def {sig}:\n    {_docstring(desc)}\n{_indent(body)}"


def synthetic_pairs(
    n_problems: int, seed: int = 0, *, per_problem: int = 1
) -> list[PreferencePair]:
    """``n_problems * per_problem`` pairs: for each distinct problem, a working answer (chosen)
    against ``per_problem`` differently broken ones (rejected)."""
    rng = random.Random(seed)
    pairs = []
    for index in range(n_problems):
        query, sig, code = _problem(index)
        desc, body = SPECS[index % len(SPECS)][2:]
        broken = _broken(sig, desc, body[0], rng)
        kinds = rng.sample(range(len(broken)), k=min(per_problem, len(broken)))
        kinds += [rng.randrange(len(broken)) for _ in range(per_problem - len(kinds))]
        for j, kind in enumerate(kinds):
            chosen = f"{rng.choice(INTROS)}{_fenced(code)}{rng.choice(OUTROS)}"
            chosen_agent, rejected_agent = rng.sample(AGENTS, 2)
            winner, loser = ("A", "B") if rng.random() < 0.5 else ("B", "A")
            votes = {"A": 0, "B": 0, "tie": 0, "both_bad": 0}
            votes[winner] = rng.randint(2, 4)
            votes[loser] = rng.randint(0, 1)
            pairs.append(
                PreferencePair(
                    comparison_id=f"synthetic-{seed}-{index}-{j}",
                    query=query,
                    chosen=chosen,
                    rejected=broken[kind](),
                    chosen_agent=chosen_agent,
                    rejected_agent=rejected_agent,
                    votes=votes,
                    created_at=f"2026-11-{1 + index % 28:02d}T10:{j % 60:02d}:00+00:00",
                )
            )
    return pairs


def write_jsonl(pairs: list[PreferencePair], path: Path) -> Path:
    """Write ``pairs`` in the export format and return ``path``."""
    write_pairs(pairs, path)
    return path
