"""What an audit leaf is: the canonical JSON of one entry's fields, and the checks on them.

The leaf bytes are rebuilt from the stored columns at verification time, so the encoding must be
a function of the values alone: sorted keys, no whitespace, UTF-8, integers and strings only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

Scalar = str | int | bool | None

# The fields of an entry that its leaf commits to, in no particular order (keys get sorted).
LEAF_FIELDS = (
    "seq",
    "occurred_at",
    "actor",
    "role",
    "action",
    "case_number",
    "outcome",
    "reason",
    "details",
)
ACTION = re.compile(r"[a-z0-9_.:-]{1,64}")
MAX_DETAIL_CHARS = 200
MAX_DETAIL_KEYS = 32
MAX_REASON_CHARS = 2000
# Integers beyond 2**53 lose precision in JavaScript and many JSON tools, which would then
# re-encode a leaf differently from us; nothing we log needs them.
_MAX_INT = 2**53


def _check_json_value(value: object) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError("JSON object keys must be strings")
            _check_json_value(item)
    elif isinstance(value, int):  # bool is an int, and fine
        if abs(value) > _MAX_INT:
            raise ValueError("integer out of the range every JSON reader keeps exact")
    elif value is not None and not isinstance(value, str):
        raise ValueError(f"{type(value).__name__} has no canonical JSON form here")


def canonical_json(obj: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8; only str/int/bool/None and nested objects of those.

    Floats and lists are refused rather than normalised: a float has several spellings across
    JSON libraries, and nothing we audit needs one.
    """
    data = dict(obj)
    _check_json_value(data)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")  # A lone surrogate fails here, as it should.


def check_details(details: Mapping[str, Scalar] | None) -> dict[str, Scalar]:
    """Flat key → scalar map; short values, because details name things, they never tell them.

    DESIGN §4 forbids content and identity in the log. We cannot recognise those, but a cap on
    length keeps a careless caller from pasting a report body or a letter into an entry.
    """
    checked: dict[str, Scalar] = {}
    for key, value in (details or {}).items():
        if not isinstance(key, str) or not 1 <= len(key) <= 64:
            raise ValueError("detail keys are strings of 1 to 64 characters")
        if value is not None and not isinstance(value, str | int):
            raise ValueError(f"detail {key!r} is not a scalar")
        if isinstance(value, str) and len(value) > MAX_DETAIL_CHARS:
            raise ValueError(f"detail {key!r} is longer than {MAX_DETAIL_CHARS} characters")
        checked[key] = value
    if len(checked) > MAX_DETAIL_KEYS:
        raise ValueError(f"more than {MAX_DETAIL_KEYS} details")
    canonical_json(checked)  # Integer range and encodability, refused now rather than later.
    return checked


def check_entry(
    *, actor: str, role: str, action: str, case_number: str | None, reason: str
) -> None:
    # Lengths match the columns: PostgreSQL would refuse longer values, SQLite would keep them.
    if not isinstance(actor, str) or not 1 <= len(actor) <= 64:
        raise ValueError("actor must be 1 to 64 characters")
    if not isinstance(role, str) or not 1 <= len(role) <= 32:
        raise ValueError("role must be 1 to 32 characters")
    if not isinstance(action, str) or not ACTION.fullmatch(action):
        raise ValueError("action must match [a-z0-9_.:-]{1,64}")
    if case_number is not None and (not isinstance(case_number, str) or len(case_number) > 32):
        raise ValueError("case number must be at most 32 characters")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise ValueError(f"reason must be at most {MAX_REASON_CHARS} characters")


def leaf_bytes(fields: Mapping[str, Any]) -> bytes:
    """The leaf data of an entry from its stored columns (details as its canonical JSON text).

    Raises ValueError when the stored details are not canonical JSON of a flat object: such a
    row was not written by `record`, so it was altered.
    """
    try:
        details = json.loads(fields["details"])
    except (TypeError, ValueError) as exc:
        raise ValueError("details are not JSON") from exc
    if not isinstance(details, dict) or canonical_json(details).decode() != fields["details"]:
        raise ValueError("details are not canonical JSON of an object")
    return canonical_json({name: fields[name] for name in LEAF_FIELDS} | {"details": details})
