"""Correlated exposure: which symbols move together and so count as one risk.

Groups come either from configuration (:func:`groups_from_config`) or from recent returns
(:func:`groups_from_correlation`). Either way a symbol belongs to at most one group, so a
position is counted once against one group limit. Correlations are statistics, hence floats;
money never passes through here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

Groups = tuple[frozenset[str], ...]


def groups_from_config(groups: Iterable[Iterable[str]]) -> Groups:
    """Validated groups from configuration, in the order given.

    Refuses (ValueError naming the culprit) an empty group, an empty or non-string symbol,
    a bare string where a group was expected, and a symbol listed in two groups: its
    exposure would otherwise be counted against two limits and neither would be right.
    """
    seen: dict[str, int] = {}
    result: list[frozenset[str]] = []
    for index, group in enumerate(groups):
        # A bare "XBTUSD" is iterable too; it would silently become {"X", "B", ...}.
        if isinstance(group, str):
            raise ValueError(f"correlated group {index} must be a set of symbols, not {group!r}")
        members = frozenset(group)
        if not members:
            raise ValueError(f"correlated group {index} is empty")
        for symbol in sorted(members, key=repr):
            if not isinstance(symbol, str) or not symbol:
                raise ValueError(f"correlated group {index}: invalid symbol {symbol!r}")
            if symbol in seen:
                raise ValueError(
                    f"symbol {symbol} is in two correlated groups ({seen[symbol]} and {index})"
                )
            seen[symbol] = index
        result.append(members)
    return tuple(result)


def group_of(symbol: str, groups: Groups) -> frozenset[str] | None:
    """The group holding ``symbol``, or None when it is in none."""
    for group in groups:
        if symbol in group:
            return group
    return None


def group_value(
    symbols: Iterable[str], positions: Mapping[str, Decimal], marks: Mapping[str, Decimal]
) -> Decimal:
    """USD value of the positions held in ``symbols``: sum of ``|quantity| x mark``.

    A symbol not held counts zero; a held symbol without a mark raises KeyError naming it,
    since valuing it at zero would understate the exposure.
    """
    total = Decimal(0)
    for symbol in sorted(symbols):
        quantity = positions.get(symbol)
        if not quantity:
            continue
        mark = marks.get(symbol)
        if mark is None:
            raise KeyError(symbol)
        total += abs(quantity) * mark
    return total


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson correlation of two equally long series; None when it is undefined (fewer
    than two points, or a series that never moves)."""
    n = len(xs)
    if n != len(ys):
        raise ValueError(f"series differ in length: {n} and {len(ys)}")
    if n < 2:
        return None
    mean_x = math.fsum(xs) / n
    mean_y = math.fsum(ys) / n
    dx = [x - mean_x for x in xs]
    dy = [y - mean_y for y in ys]
    sxx = math.fsum(d * d for d in dx)
    syy = math.fsum(d * d for d in dy)
    if sxx == 0.0 or syy == 0.0:
        return None
    sxy = math.fsum(a * b for a, b in zip(dx, dy, strict=True))
    # Rounding can push |r| a hair past 1; clamp so a threshold of 1.0 stays meaningful.
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def groups_from_correlation(returns: Mapping[str, Sequence[float]], threshold: float) -> Groups:
    """Groups of symbols linked by a correlation of returns at or above ``threshold``.

    Series are aligned on their most recent value: each pair is compared over the last
    ``min(len_a, len_b)`` returns, as rolling windows ending at the same bar. A link joins
    two groups, so a group is a connected component: A~B and B~C put A, B and C together
    even when A and C are not linked. Only groups of two or more symbols are returned,
    sorted by their sorted members. Non-finite returns are refused (ValueError naming the
    symbol); a pair with no defined correlation is not linked.
    """
    if not -1.0 <= threshold <= 1.0:  # also refuses NaN
        raise ValueError(f"threshold must be within [-1, 1], got {threshold}")
    symbols = sorted(returns)
    for symbol in symbols:
        if not all(math.isfinite(r) for r in returns[symbol]):
            raise ValueError(f"returns of {symbol} contain a non-finite value")
    parent = {s: s for s in symbols}

    def root(symbol: str) -> str:
        while parent[symbol] != symbol:
            parent[symbol] = parent[parent[symbol]]  # path halving keeps the trees flat
            symbol = parent[symbol]
        return symbol

    for i, a in enumerate(symbols):
        xs = returns[a]
        for b in symbols[i + 1 :]:
            ys = returns[b]
            n = min(len(xs), len(ys))
            r = pearson(xs[len(xs) - n :], ys[len(ys) - n :])
            if r is not None and r >= threshold:
                parent[root(b)] = root(a)

    components: dict[str, set[str]] = {}
    for symbol in symbols:
        components.setdefault(root(symbol), set()).add(symbol)
    found = [frozenset(c) for c in components.values() if len(c) > 1]
    return tuple(sorted(found, key=sorted))
