"""Tracking codes: whatever is typed, normalisation either refuses or yields a canonical code."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wbs.crypto.codes import (
    ALPHABET,
    CODE_LENGTH,
    MAX_INPUT_LENGTH,
    format_code,
    lookup_hash,
    normalize_code,
    reporter_key,
)

codes = st.text(alphabet=ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)
PEPPER = b"p" * 32
SALT = b"s" * 16

# What a person copying a code by hand may do: lower case, confusable letters, dashes, spaces.
_VARIANTS = {"0": "0Oo", "1": "1IiLl"} | {c: c + c.lower() for c in ALPHABET if c.isalpha()}


@st.composite
def hand_copied(draw: st.DrawFn) -> tuple[str, str]:
    code = draw(codes)
    out = []
    for char in code:
        out.append(draw(st.sampled_from(_VARIANTS.get(char, char))))
        out.append(draw(st.sampled_from(["", "", "", "-", " "])))
    return code, "".join(out)


@given(st.text(max_size=200))
def test_any_text_is_refused_or_canonical(raw: str) -> None:
    result = normalize_code(raw)
    if result is not None:
        assert len(result) == CODE_LENGTH
        assert set(result) <= set(ALPHABET)
        assert len(raw) <= MAX_INPUT_LENGTH
        assert normalize_code(result) == result  # idempotent


@given(hand_copied())
def test_hand_copied_codes_read_back(pair: tuple[str, str]) -> None:
    code, typed = pair
    if len(typed) <= MAX_INPUT_LENGTH:
        assert normalize_code(typed) == code
        assert lookup_hash(PEPPER, typed) == lookup_hash(PEPPER, code)
        assert reporter_key(typed, SALT) == reporter_key(code, SALT)
    else:
        assert normalize_code(typed) is None


@given(codes)
def test_formatted_code_round_trips(code: str) -> None:
    shown = format_code(code)
    assert shown.count("-") == CODE_LENGTH // 4 - 1
    assert normalize_code(shown) == code


@given(codes, codes)
def test_distinct_codes_hash_apart(a: str, b: str) -> None:
    assert (lookup_hash(PEPPER, a) == lookup_hash(PEPPER, b)) == (a == b)
    assert (reporter_key(a, SALT) == reporter_key(b, SALT)) == (a == b)


@given(codes, st.sampled_from("UuÖ!_.é\x00\ud800"), st.integers(0, CODE_LENGTH))
def test_a_foreign_character_anywhere_is_refused(code: str, bad: str, at: int) -> None:
    assert normalize_code(code[:at] + bad + code[at:]) is None
