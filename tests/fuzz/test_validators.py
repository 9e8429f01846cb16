"""The form and API validators: any input is either refused field by field or accepted clean.

Nothing a client sends may raise anything but the validator's own refusal. Lone surrogates,
NUL bytes and deep nesting are left out of the strategies here: `hard-b` fixes those (see
tests/fuzz/test_api.py for the marked cases).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.exceptions import HTTPException

from wbs.cases import intake
from wbs.web.forms import MAX_FORM_FIELDS, parse_form

SLUGS = ["dinas-pu", "bumd-air"]
# Text as clients send it, without the characters hard-b handles (lone surrogates, NUL).
texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                max_size=300)
scalars = st.one_of(st.none(), st.booleans(), st.integers(),
                    st.floats(allow_nan=False, allow_infinity=False), texts)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)), max_leaves=12)
REPORT_KEYS = ["kind", "title", "what", "how", "where", "when", "who_name", "who_nip",
               "who_agency", "who_position", "reported_unit", "identity_mode",
               "identity_name", "identity_nip", "identity_email", "identity_phone",
               "identity_address", "identity_occupation"]
field_values = st.one_of(texts, json_values, st.sampled_from(
    ["complaint", "whistleblowing", "anonymous", "confidential", *SLUGS, "a@b.id", "1987 0101",
     "x" * 201, "y" * 20_001]))
raw_reports = st.dictionaries(st.one_of(st.sampled_from(REPORT_KEYS), texts), field_values,
                              max_size=len(REPORT_KEYS))


def _clean_text(value: str) -> bool:
    return "\r" not in value and all(c in "\n\t" or c.isprintable() for c in value) \
        and value == value.strip()


@given(raw_reports)
def test_parse_report_refuses_or_returns_clean_input(raw: dict[str, Any]) -> None:
    try:
        report = intake.parse_report(raw, SLUGS)
    except intake.InvalidReport as exc:
        errors = exc.errors
    else:
        errors = {}
    if errors:
        # Message keys (translated by the page), never the submitted text echoed back.
        assert all(re.fullmatch(r"[a-z_]{3,32}", key) for key in errors.values()), errors
        return
    for key, limit in intake.LIMITS.items():
        value = getattr(report, key)
        assert len(value) <= limit and _clean_text(value)
    assert report.title and report.what
    assert report.reported_unit in ("", *SLUGS)
    if report.identity is not None:
        assert raw.get("identity_mode") == "confidential" or \
            str(raw.get("identity_mode")).strip() == "confidential"
        assert report.identity.name


@given(st.dictionaries(st.sampled_from(list(intake.IDENTITY_LIMITS)), field_values))
def test_parse_identity_names_every_bad_field(raw: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    identity = intake.parse_identity(raw, errors, prefix="")
    assert identity is not None
    for key, limit in intake.IDENTITY_LIMITS.items():
        value = getattr(identity, key)
        assert _clean_text(value)
        assert len(value) <= limit or key in errors
    assert ("name" in errors) == (not identity.name or len(identity.name) > 200)
    if identity.email and "email" not in errors:
        assert "@" in identity.email and " " not in identity.email
    if identity.nip and "nip" not in errors:
        assert identity.nip.replace(" ", "").isdigit()


@given(st.binary(max_size=2000))
def test_parse_form_takes_any_bytes(body: bytes) -> None:
    try:
        values = parse_form(body)
    except HTTPException as exc:
        status = exc.status_code
    else:
        status = 200
    if status != 200:
        assert status == 400
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
    assert len(values) <= MAX_FORM_FIELDS


@given(st.dictionaries(texts.filter(lambda s: "&" not in s and "=" not in s), texts,
                       max_size=8))
def test_parse_form_round_trips_what_a_browser_encodes(pairs: dict[str, str]) -> None:
    from urllib.parse import urlencode

    assert parse_form(urlencode(pairs).encode("ascii")) == pairs


def test_too_many_form_fields_are_a_400() -> None:
    body = "&".join(f"f{i}=1" for i in range(MAX_FORM_FIELDS + 5)).encode()
    with pytest.raises(HTTPException) as caught:
        parse_form(body)
    assert caught.value.status_code == 400
