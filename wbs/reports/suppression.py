"""Small-count suppression for the public page (issue 11): no cell below the threshold is shown,
and none can be worked out from the other cells, the row and column totals of the same table.

A table is published with its margins: R rows × C columns of cells, a total per row and per
column, and a grand total, i.e. an extended (R+1) × (C+1) grid in which every line sums to its
margin. Primary suppression hides each entry (cell or margin) below the threshold. Complementary
suppression then hides more until no hidden entry is *determined* by the published ones: the
hidden entries are the unknowns of the line equations, and an unknown is determined exactly
when its unit vector lies in the row space of those equations (checked with exact fractions).
Extra entries are taken smallest first, cells before margins, so the least is hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

DEFAULT_THRESHOLD = 5
Cell = tuple[int, int]


@dataclass(frozen=True)
class Suppressed:
    """The extended grid: `values[i][j]`, with row R the column totals and column C the row
    totals; `hidden` the entries not shown, `primary` those hidden for being small."""

    values: list[list[int]]
    hidden: frozenset[Cell]
    primary: frozenset[Cell]
    threshold: int

    def shown(self, i: int, j: int) -> str:
        if (i, j) in self.primary:
            return f"<{self.threshold}"
        if (i, j) in self.hidden:
            return "×"
        return str(self.values[i][j])


def extend(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    rows = [list(r) for r in cells]
    width = len(rows[0]) if rows else 0
    grid = [[*r, sum(r)] for r in rows]
    grid.append([sum(r[j] for r in grid) for j in range(width + 1)])
    return grid


def _lines(n_rows: int, n_cols: int) -> list[list[Cell]]:
    """Every line of the extended grid (rows and columns, margins included)."""
    return ([[(i, j) for j in range(n_cols)] for i in range(n_rows)]
            + [[(i, j) for i in range(n_rows)] for j in range(n_cols)])


def determined(grid: Sequence[Sequence[int]], hidden: frozenset[Cell]) -> set[Cell]:
    """The hidden entries that the shown ones fix exactly."""
    n_rows, n_cols = len(grid), len(grid[0])
    unknowns = sorted(hidden)
    index = {cell: k for k, cell in enumerate(unknowns)}
    # Each line: its cells sum to its margin, i.e. Σ cells − margin = 0.
    equations: list[list[Fraction]] = []
    for i in range(n_rows):
        row = [Fraction(0)] * len(unknowns)
        for j in range(n_cols):
            if (i, j) in index:
                row[index[(i, j)]] += 1 if j < n_cols - 1 else -1
        equations.append(row)
    for j in range(n_cols):
        row = [Fraction(0)] * len(unknowns)
        for i in range(n_rows):
            if (i, j) in index:
                row[index[(i, j)]] += 1 if i < n_rows - 1 else -1
        equations.append(row)
    pivots = _rref(equations, len(unknowns))
    return {unknowns[col] for col, row in pivots.items()
            if all(v == 0 for k, v in enumerate(row) if k != col)}


def _rref(rows: list[list[Fraction]], width: int) -> dict[int, list[Fraction]]:
    """Reduced row echelon form; the pivot rows by pivot column."""
    rows = [r[:] for r in rows if any(r)]
    pivots: dict[int, int] = {}  # pivot column → row index (rows are replaced as we go)
    r = 0
    for col in range(width):
        pick = next((k for k in range(r, len(rows)) if rows[k][col] != 0), None)
        if pick is None:
            continue
        rows[r], rows[pick] = rows[pick], rows[r]
        lead = rows[r][col]
        rows[r] = [v / lead for v in rows[r]]
        for k in range(len(rows)):
            if k != r and rows[k][col] != 0:
                factor = rows[k][col]
                rows[k] = [a - factor * b for a, b in zip(rows[k], rows[r], strict=True)]
        pivots[col] = r
        r += 1
        if r == len(rows):
            break
    return {col: rows[k] for col, k in pivots.items()}


def suppress(cells: Sequence[Sequence[int]],
             threshold: int = DEFAULT_THRESHOLD) -> Suppressed:
    grid = extend(cells)
    n_rows, n_cols = len(grid), len(grid[0])
    primary = frozenset((i, j) for i in range(n_rows) for j in range(n_cols)
                        if grid[i][j] < threshold)
    hidden = set(primary)
    lines = _lines(n_rows, n_cols)

    def cost(cell: Cell) -> tuple[int, int]:
        i, j = cell
        margin = i == n_rows - 1 or j == n_cols - 1
        return (1 if margin else 0, grid[i][j])

    while True:
        exposed = determined(grid, frozenset(hidden))
        if not exposed:
            break
        # Hide one more entry on a line through a determined one: the cheapest such entry.
        target = min(exposed)
        candidates = {c for line in lines if target in line for c in line if c not in hidden}
        if not candidates:  # every line through it is hidden already: hide anything left
            candidates = {(i, j) for i in range(n_rows) for j in range(n_cols)} - hidden
        if not candidates:  # all hidden (only an empty table's zero total gets here)
            break
        hidden.add(min(candidates, key=lambda c: (*cost(c), c)))
    return Suppressed(grid, frozenset(hidden), primary, threshold)
