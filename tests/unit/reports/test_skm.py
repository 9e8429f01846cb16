"""SKM / IKM per Perbup Sanggau 33/2019 (RULES §9): grades on the exact boundaries, a worked
example computed by hand, unequal weights, and the Krejcie–Morgan sample sizes."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from wbs.reports import skm


@pytest.mark.parametrize(("score", "letter"), [
    ("25.00", "D"), ("64.99", "D"), ("65.00", "C"), ("76.60", "C"), ("76.61", "B"),
    ("88.30", "B"), ("88.31", "A"), ("100.00", "A"),
])
def test_grades_on_the_regulations_boundaries(score: str, letter: str) -> None:
    assert skm.grade(Decimal(score)).letter == letter


def test_grade_labels_and_range() -> None:
    assert (skm.grade(Decimal("70")).label_id, skm.grade(Decimal("90")).label_id) == (
        "Kurang baik", "Sangat baik")
    with pytest.raises(skm.SkmError):
        skm.grade(Decimal("24.99"))


# Four respondents. Element means by hand:
#   e1 (4+3+4+3)/4 = 3.5   e2 3   e3 (3+2+3+2)/4 = 2.5   e4 4   e5 3
#   e6 (3+4+3+4)/4 = 3.5   e7 4   e8 (2+2+3+1)/4 = 2     e9 3
# Sum 28.5; equal weights 1/9: index 28.5 / 9 = 3.1667, converted 79.1666… → 79.17, B (Baik).
ANSWERS = [
    (4, 3, 3, 4, 3, 3, 4, 2, 3),
    (3, 3, 2, 4, 3, 4, 4, 2, 3),
    (4, 3, 3, 4, 3, 3, 4, 3, 3),
    (3, 3, 2, 4, 3, 4, 4, 1, 3),
]


def test_worked_example_by_hand() -> None:
    result = skm.compute(ANSWERS)
    assert result is not None
    assert result.element_means == tuple(Fraction(x) for x in (
        "3.5", "3", "2.5", "4", "3", "3.5", "4", "2", "3"))
    assert result.index == Fraction(57, 18)
    assert result.index_text == Decimal("3.1667")
    assert result.converted == Decimal("79.17")
    assert (result.grade.letter, result.grade.label_id) == ("B", "Baik")
    # Lowest mean: e8 (2.0); below a B on their own (× 25 < 76.61): e2, e3, e5, e8, e9.
    assert result.lowest == (1, 2, 4, 7, 8)


def test_unequal_weights() -> None:
    # 0.2 on requirements, 0.1 on the rest: 0.2 × 3.5 + 0.1 × (28.5 − 3.5) = 3.2 → 80.00, B.
    weights = skm.parse_weights(["0.2"] + ["0.1"] * 8)
    result = skm.compute(ANSWERS, weights)
    assert result is not None
    assert result.index == Fraction(16, 5) and result.converted == Decimal("80.00")
    # Most of the weight on the complaint handling element (mean 2).
    heavy = skm.parse_weights(["1/100"] * 7 + ["92/100", "1/100"])
    result = skm.compute(ANSWERS, heavy)
    assert result is not None
    # 0.92 × 2 + 0.01 × (28.5 − 2) = 1.84 + 0.265 = 2.105 → 52.625 → 52.63, D.
    assert result.converted == Decimal("52.63") and result.grade.letter == "D"


def test_a_boundary_reached_exactly_is_not_lost_to_rounding() -> None:
    # Every element 2.6 (three 3s and two 2s): index 2.6, converted exactly 65.00, C.
    answers = [(3,) * 9, (3,) * 9, (3,) * 9, (2,) * 9, (2,) * 9]
    result = skm.compute(answers)
    assert result is not None and result.converted == Decimal("65.00")
    assert result.grade.letter == "C"


@pytest.mark.parametrize("weights", [
    ["0.11"] * 9,  # the regulation's printed rounding sums to 0.99
    ["0.2"] * 9,
    ["1/9"] * 8 + ["0"],
    ["x"] + ["1/9"] * 8,
    ["1/9"] * 8,
])
def test_weights_must_be_nine_positive_and_sum_to_one(weights: list[str]) -> None:
    with pytest.raises(skm.SkmError):
        skm.parse_weights(weights)


def test_answers_outside_one_to_four_are_refused() -> None:
    with pytest.raises(skm.SkmError):
        skm.compute([(5, 3, 3, 3, 3, 3, 3, 3, 3)])
    assert skm.compute([]) is None


@pytest.mark.parametrize(("population", "sample"), [
    (10, 10), (15, 14), (100, 80), (110, 86), (150, 108), (300, 169), (320, 175), (500, 217),
    (550, 226), (1000, 278), (1100, 285), (2000, 322), (2200, 327), (3000, 341), (3500, 346),
    (5000, 357), (6000, 361), (10000, 370), (15000, 375), (20000, 377), (30000, 379),
    (40000, 380), (50000, 381), (75000, 382), (1000000, 384),
])
def test_sample_sizes_straight_from_the_table(population: int, sample: int) -> None:
    assert skm.sample_size(population) == sample


def test_between_rows_the_larger_rows_sample_and_the_ends() -> None:
    assert skm.sample_size(101) == 86  # row 110
    assert skm.sample_size(12) == 14  # row 15
    assert skm.sample_size(7) == 7  # fewer than 10: everyone
    assert skm.sample_size(5_000_000) == 384
    with pytest.raises(skm.SkmError):
        skm.sample_size(0)


def test_the_formula_reproduces_every_row_of_the_table() -> None:
    assert len(skm.KREJCIE_MORGAN) == 90
    for population, sample in skm.KREJCIE_MORGAN:
        assert round(skm.krejcie_morgan(population)) == sample, population
