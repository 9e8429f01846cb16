"""The audit log pages show a row's details as pairs; a row whose details are not a JSON object
(tampered, which `wbs audit verify` names) is shown as its raw text, never an error page.
Activity bounds without a time zone are a caller bug."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from wbs.audit.activity import LogEntry, activity_summary


def _entry(details: str) -> LogEntry:
    return LogEntry(seq=1, occurred_at="2026-03-02T02:00:00Z", actor="admin",
                    role="administrator", action="user.disable", case_number=None,
                    outcome="allowed", reason="", details=details)


def test_details_are_shown_as_pairs_or_as_raw_text() -> None:
    assert _entry('{"n":3,"unit":"inspektorat","ok":true,"x":null}').detail_items() == [
        ("n", "3"), ("unit", "inspektorat"), ("ok", "true"), ("x", "null")]
    assert _entry("{not json").detail_items() == [("", "{not json")]
    assert _entry("[1,2]").detail_items() == [("", "[1,2]")]
    assert _entry('"<script>"').detail_items() == [("", '"<script>"')]


def test_activity_bounds_must_be_aware(factory: sessionmaker[Session]) -> None:
    with factory() as session, pytest.raises(ValueError, match="timezone-aware"):
        activity_summary(session, datetime(2026, 3, 1), datetime(2026, 3, 2))
