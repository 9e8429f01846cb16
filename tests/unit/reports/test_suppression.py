"""Small-count suppression (issue 11 done-when 3): on generated tables, no shown entry is below
the threshold and no hidden entry can be derived from the shown cells, rows, columns and totals.

The oracle here is independent of the code's: an entry x is derivable exactly when adding the
equation "x = value" to the table's line equations does not raise their rank.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from wbs.reports.suppression import extend, suppress


def _rank(rows: list[list[Fraction]]) -> int:
    m = [r[:] for r in rows]
    rank, width = 0, len(m[0]) if m else 0
    for col in range(width):
        pivot = next((k for k in range(rank, len(m)) if m[k][col] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for k in range(len(m)):
            if k != rank and m[k][col] != 0:
                f = m[k][col] / m[rank][col]
                m[k] = [a - f * b for a, b in zip(m[k], m[rank], strict=True)]
        rank += 1
    return rank


def _derivable(grid: list[list[int]], hidden: set[tuple[int, int]]) -> set[tuple[int, int]]:
    n_rows, n_cols = len(grid), len(grid[0])
    unknowns = sorted(hidden)
    equations = []
    for line in ([[(i, j) for j in range(n_cols)] for i in range(n_rows)]
                 + [[(i, j) for i in range(n_rows)] for j in range(n_cols)]):
        margin = line[-1]
        equations.append([Fraction(0 if u not in line else (-1 if u == margin else 1))
                          for u in unknowns])
    base = _rank(equations)
    out = set()
    for k, cell in enumerate(unknowns):
        unit = [Fraction(1 if x == k else 0) for x in range(len(unknowns))]
        if _rank([*equations, unit]) == base:
            out.add(cell)
    return out


def _check(cells: list[list[int]], threshold: int = 5) -> None:
    result = suppress(cells, threshold)
    grid = extend(cells)
    assert result.values == grid
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            shown = result.shown(i, j)
            if (i, j) in result.hidden:
                assert shown in (f"<{threshold}", "×")
            else:
                assert int(shown) == value and value >= threshold
    assert _derivable(grid, set(result.hidden)) == set()


def test_one_small_cell_takes_its_row_and_column_partners_with_it() -> None:
    cells = [[3, 20, 11], [9, 14, 30], [12, 8, 25]]
    result = suppress(cells)
    assert (0, 0) in result.primary
    # Its row and its column each lose one more entry, and so does a fourth corner.
    assert len(result.hidden) >= 4
    _check(cells)


def test_nothing_small_nothing_hidden() -> None:
    result = suppress([[5, 6], [7, 8]])
    assert result.hidden == frozenset()


def test_an_empty_table_shows_nothing() -> None:
    result = suppress([])
    assert result.values == [[0]] and result.shown(0, 0) == "<5"


def test_a_single_row_table() -> None:
    _check([[2, 40, 41]])
    _check([[2]])
    _check([[0, 0], [0, 7]])


@pytest.mark.parametrize("seed", range(60))
def test_generated_tables(seed: int) -> None:
    rng = random.Random(seed)
    rows, cols = rng.randint(1, 7), rng.randint(1, 5)
    # Mostly small counts, as a small Pemda's page would have.
    cells = [[rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 30]) for _ in range(cols)]
             for _ in range(rows)]
    _check(cells, threshold=rng.choice([3, 5, 10]))
