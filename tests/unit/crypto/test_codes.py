from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from wbs.crypto import codes
from wbs.crypto.codes import (
    CODE_LENGTH,
    MAX_INPUT_LENGTH,
    format_code,
    generate_code,
    lookup_hash,
    new_case_salt,
    normalize_code,
    reporter_key,
)

CODE_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{24}$")
CODE = "0123456789ABCDEFGHJKMNPQ"
PEPPER = bytes(32)
OTHER_PEPPER = bytes([1]) * 32


def test_generated_codes_are_distinct_and_well_formed() -> None:
    generated = [generate_code() for _ in range(10_000)]
    assert len(set(generated)) == len(generated)
    assert all(CODE_RE.fullmatch(code) for code in generated)
    # Every symbol of the alphabet turns up, so all 32 values are in use.
    assert set("".join(generated)) == set(codes.ALPHABET)


def test_format_and_normalize_round_trip() -> None:
    for _ in range(100):
        code = generate_code()
        shown = format_code(code)
        assert re.fullmatch(r"([0-9A-Z]{4}-){5}[0-9A-Z]{4}", shown)
        assert normalize_code(shown) == code
    assert format_code(CODE) == "0123-4567-89AB-CDEF-GHJK-MNPQ"


@pytest.mark.parametrize(
    "typed",
    [
        CODE,
        CODE.lower(),
        "0123-4567-89ab-cdef-ghjk-mnpq",
        "0123 4567 89AB CDEF GHJK MNPQ",
        " 0123--4567 - 89AB cdef GHJK MNPQ ",
        "O123-4567-89AB-CDEF-GHJK-MNPQ",
        "o123-4567-89AB-CDEF-GHJK-MNPQ",
    ],
)
def test_normalize_accepts_human_variants(typed: str) -> None:
    assert normalize_code(typed) == CODE


def test_crockford_confusables_map_to_digits() -> None:
    assert normalize_code("IiLl" + "0" * 20) == "1111" + "0" * 20
    assert normalize_code("Oo" + "1" * 22) == "00" + "1" * 22


@pytest.mark.parametrize(
    "bad",
    [
        "U" + CODE[1:],
        "u" + CODE[1:],
        CODE[:-1] + ".",
        CODE[:-1] + "_",
        CODE[:-1] + "*",
        CODE[:12] + "/" + CODE[12:],
        CODE[:-1] + "\uff21",  # fullwidth A
        CODE[:-1] + "\u0410",  # Cyrillic A
        CODE[:-1] + "\t",
        CODE[:-1],
        CODE + "0",
        "",
        "----",
    ],
)
def test_normalize_refuses_malformed(bad: str) -> None:
    assert normalize_code(bad) is None


def test_length_limit_counts_raw_input() -> None:
    spaced = " ".join(CODE)
    padded = spaced + " " * (MAX_INPUT_LENGTH - len(spaced))
    assert len(padded) == MAX_INPUT_LENGTH
    assert normalize_code(padded) == CODE
    assert normalize_code(padded + " ") is None


def test_oversized_input_refused_before_any_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = codes._canonical_chars

    def counting(raw: str) -> str | None:
        calls.append(raw)
        return real(raw)

    monkeypatch.setattr(codes, "_canonical_chars", counting)
    huge = CODE + "-" * 10_000
    assert normalize_code(huge) is None
    with pytest.raises(ValueError):
        lookup_hash(PEPPER, huge)
    with pytest.raises(ValueError):
        reporter_key(huge, bytes(16))
    assert calls == []
    # The counter does see ordinary input, so the empty list above means something.
    assert normalize_code(CODE) == CODE
    assert calls == [CODE]


def test_lookup_hash_is_hmac_sha256_of_canonical_code() -> None:
    expected = hmac.new(PEPPER, CODE.encode(), hashlib.sha256).digest()
    assert lookup_hash(PEPPER, CODE) == expected
    assert lookup_hash(PEPPER, format_code(CODE).lower()) == expected


def test_lookup_hash_differs_per_pepper_and_code() -> None:
    assert lookup_hash(PEPPER, CODE) != lookup_hash(OTHER_PEPPER, CODE)
    assert lookup_hash(PEPPER, CODE) != lookup_hash(PEPPER, generate_code())


def test_lookup_hash_refuses_short_pepper_and_bad_code() -> None:
    with pytest.raises(ValueError):
        lookup_hash(b"pepper", CODE)
    with pytest.raises(ValueError):
        lookup_hash(PEPPER, "not a code")


def test_reporter_key() -> None:
    salt = new_case_salt()
    key = reporter_key(CODE, salt)
    assert len(key) == 32
    assert reporter_key(format_code(CODE), salt) == key
    assert reporter_key(CODE, new_case_salt()) != key
    assert reporter_key(generate_code(), salt) != key
    assert key != lookup_hash(PEPPER, CODE)


def test_reporter_key_refuses_short_salt() -> None:
    with pytest.raises(ValueError):
        reporter_key(CODE, b"salt")


def test_new_case_salt() -> None:
    assert len(new_case_salt()) == 16
    assert new_case_salt() != new_case_salt()


def test_format_code_refuses_malformed() -> None:
    with pytest.raises(ValueError):
        format_code("U" * CODE_LENGTH)
