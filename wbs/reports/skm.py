"""Survei Kepuasan Masyarakat (SKM) and its index (IKM), as Perbup Sanggau 33/2019 lays it out
(RULES §9). Pure functions: no database, no clock.

Nine elements, each answered 1 (tidak baik) to 4 (sangat baik). The index is the weighted mean
of the element means; the weights are equal by default (1/9, which the regulation prints
rounded as 0.11) and may be changed per unit as long as they sum to exactly 1. The converted
score is the index × 25 (25–100), rounded to two decimals half up, and graded on the
regulation's converted boundaries: D 25.00–64.99, C 65.00–76.60, B 76.61–88.30, A 88.31–100.
Fractions are used throughout so that a boundary case is decided exactly, not by a float.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

ELEMENTS: tuple[tuple[str, str, str], ...] = (
    ("requirements", "Persyaratan", "Requirements"),
    ("procedure", "Sistem, mekanisme dan prosedur", "System, mechanism and procedure"),
    ("time", "Waktu penyelesaian", "Completion time"),
    ("cost", "Biaya/tarif", "Cost / tariff"),
    ("product", "Produk spesifikasi jenis pelayanan", "Product of the service"),
    ("competence", "Kompetensi pelaksana", "Staff competence"),
    ("behaviour", "Perilaku pelaksana", "Staff behaviour"),
    ("complaints", "Penanganan pengaduan, saran dan masukan",
     "Handling of complaints, suggestions and input"),
    ("facilities", "Sarana dan prasarana", "Facilities"),
)
N_ELEMENTS = len(ELEMENTS)
EQUAL_WEIGHTS: tuple[Fraction, ...] = (Fraction(1, N_ELEMENTS),) * N_ELEMENTS
TWO = Decimal("0.01")

# Converted score → grade, by the regulation's upper bounds (inclusive).
GRADES: tuple[tuple[Decimal, str, str, str], ...] = (
    (Decimal("64.99"), "D", "Tidak baik", "Poor"),
    (Decimal("76.60"), "C", "Kurang baik", "Fair"),
    (Decimal("88.30"), "B", "Baik", "Good"),
    (Decimal("100.00"), "A", "Sangat baik", "Very good"),
)


class SkmError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_weights(values: Sequence[str]) -> tuple[Fraction, ...]:
    """Nine weights as decimals or fractions ("0.2", "1/9"); each > 0, summing to exactly 1."""
    if len(values) != N_ELEMENTS:
        raise SkmError("weights_count")
    try:
        weights = tuple(Fraction(v.strip()) for v in values)
    except (ValueError, ZeroDivisionError) as exc:
        raise SkmError("weights_invalid") from exc
    if any(w <= 0 for w in weights) or sum(weights) != 1:
        raise SkmError("weights_sum")
    return weights


def weights_text(weights: Sequence[Fraction]) -> list[str]:
    return [str(w) for w in weights]


@dataclass(frozen=True)
class Grade:
    letter: str
    label_id: str
    label_en: str


def grade(converted: Decimal) -> Grade:
    """The grade of a converted score given to two decimals."""
    score = converted.quantize(TWO, rounding=ROUND_HALF_UP)
    if score < Decimal(25) or score > Decimal(100):
        raise SkmError("score_out_of_range")
    for upper, letter, label_id, label_en in GRADES:
        if score <= upper:
            return Grade(letter, label_id, label_en)
    raise AssertionError("unreachable: 100.00 is the last bound")  # pragma: no cover


@dataclass(frozen=True)
class Result:
    responses: int
    element_means: tuple[Fraction, ...]
    weights: tuple[Fraction, ...]
    index: Fraction
    converted: Decimal
    grade: Grade
    lowest: tuple[int, ...]  # element positions (0-based) flagged for the follow-up plan

    def mean_text(self, i: int) -> Decimal:
        return _dec(self.element_means[i], Decimal("0.001"))

    @property
    def index_text(self) -> Decimal:
        return _dec(self.index, Decimal("0.0001"))


def _dec(value: Fraction, places: Decimal) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        places, rounding=ROUND_HALF_UP)


def compute(answers: Sequence[Sequence[int]],
            weights: Sequence[Fraction] = EQUAL_WEIGHTS) -> Result | None:
    """The index of a set of responses (each nine answers 1–4); None without responses.

    Flagged: every element with the lowest mean, and every element whose own converted score
    is below a B (76.61): the regulation's follow-up plan starts from the lowest elements.
    """
    if not answers:
        return None
    if len(weights) != N_ELEMENTS or sum(weights) != 1:
        raise SkmError("weights_sum")
    for row in answers:
        if len(row) != N_ELEMENTS or any(a not in (1, 2, 3, 4) for a in row):
            raise SkmError("answer_invalid")
    n = len(answers)
    means = tuple(Fraction(sum(row[i] for row in answers), n) for i in range(N_ELEMENTS))
    index = sum((w * m for w, m in zip(weights, means, strict=True)), Fraction(0))
    converted = _dec(index * 25, TWO)
    low = min(means)
    lowest = tuple(i for i, m in enumerate(means)
                   if m == low or _dec(m * 25, TWO) < Decimal("76.61"))
    return Result(n, means, tuple(weights), index, converted, grade(converted), lowest)


# Krejcie–Morgan (Lamp. II.D.II.A, II.H): population → sample.
KREJCIE_MORGAN: tuple[tuple[int, int], ...] = (
    *zip(range(10, 101, 5), (10, 14, 19, 24, 28, 32, 36, 40, 44, 48, 52, 56, 59, 63, 66, 70,
                             73, 76, 80), strict=True),
    *zip(range(110, 301, 10), (86, 92, 97, 103, 108, 113, 118, 123, 127, 132, 136, 140, 144,
                               148, 152, 155, 159, 162, 165, 169), strict=True),
    *zip(range(320, 501, 20), (175, 181, 186, 191, 196, 201, 205, 210, 214, 217), strict=True),
    *zip(range(550, 1001, 50), (226, 234, 242, 248, 254, 260, 265, 269, 274, 278), strict=True),
    *zip(range(1100, 2001, 100), (285, 291, 297, 302, 306, 310, 313, 317, 320, 322),
         strict=True),
    *zip(range(2200, 3001, 200), (327, 331, 335, 338, 341), strict=True),
    *zip(range(3500, 5001, 500), (346, 351, 354, 357), strict=True),
    *zip(range(6000, 10001, 1000), (361, 364, 367, 368, 370), strict=True),
    (15000, 375), (20000, 377), (30000, 379), (40000, 380), (50000, 381), (75000, 382),
    (1000000, 384),
)
_POPULATIONS = [p for p, _s in KREJCIE_MORGAN]
_TABLE: Mapping[int, int] = dict(KREJCIE_MORGAN)


def krejcie_morgan(population: int) -> float:
    """The formula behind the table, rounded to the nearest whole it gives every row: χ² = 3.841
    (1 degree of freedom, 5 %), P = 0.5, d = 0.05."""
    chi2, p, d = 3.841, 0.5, 0.05
    return chi2 * population * p * (1 - p) / (d * d * (population - 1) + chi2 * p * (1 - p))


def sample_size(population: int) -> int:
    """The table's sample for a population; between two rows, the larger row's (never fewer
    respondents than the table asks); below 10, everyone; above 1,000,000, 384."""
    if population < 1:
        raise SkmError("population_invalid")
    if population < _POPULATIONS[0]:
        return population
    at = bisect.bisect_left(_POPULATIONS, population)
    if at == len(_POPULATIONS):
        return _TABLE[_POPULATIONS[-1]]
    return _TABLE[_POPULATIONS[at]]

