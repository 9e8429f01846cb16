"""Issue 14, browser journeys: an auditor verifies the audit log, before and after tampering.

The auditor signs in through the sign-in page, opens the audit log from the menu and follows its
"Verify the log" link: the page says the log is intact and shows the number of entries it
recomputed, which is the log's length at that moment (the verification is itself recorded after
it), and that the checkpoint the scheduled job published matches it. Then one row in the middle
of the log is changed directly in the database, as an attacker with database access would do,
and the auditor verifies again: the page says the log is damaged and names the entry changed,
also when the attacker recomputed the row's hash (the signed tree head catches it), says the
published checkpoint cannot be vouched for, and the failed verification is itself in the log.
Once the row is put back, the log verifies again. Every page passes axe-core in the journey's
language.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.e2e import staff_world
from tests.e2e.conftest import Tab
from tests.e2e.journeys import Walk
from tests.functional.workflow_helpers import ROLE_USERS
from wbs.audit import merkle
from wbs.audit.leaf import leaf_bytes
from wbs.jobs import publish_checkpoint_job
from wbs.models import AuditEntry

pytestmark = pytest.mark.e2e

AUDIT_LOG = {"id": "Log audit", "en": "Audit log"}
VERIFY = {"id": "Verifikasi log", "en": "Verify the log"}
DAMAGED = {"id": "Log audit rusak.", "en": "The audit log is damaged."}
CHECKPOINT_OK = {"id": "Titik periksa ini sesuai dengan log yang telah diverifikasi.",
                 "en": "The checkpoint matches the verified log."}
CHECKPOINT_UNVERIFIED = {"id": "Titik periksa ini mencakup entri yang tidak dapat diverifikasi.",
                         "en": "The checkpoint covers entries that could not be verified."}
FIRST_BAD = {"id": "Entri pertama yang bermasalah: no. {seq}.",
             "en": "First bad entry: no. {seq}."}


def _size(live_server: Any) -> int:
    with live_server.db() as session:
        return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def _last(live_server: Any) -> tuple[str, str, dict[str, Any]]:
    with live_server.db() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None
        return entry.actor, entry.action, json.loads(entry.details)


def _verify(tab: Tab, walk: Walk, label: str) -> dict[str, str]:
    """Follow the audit pages' own "Verify the log" link; what the result says."""
    link = tab.page.locator("main nav a", has_text=VERIFY[tab.lang])
    assert link.count() == 1
    tab.submit(link, label)
    assert tab.path() == "/staf/audit/verifikasi"
    walk.check(tab, label)
    result = tab.page.locator("#verify-result")
    size = tab.page.locator("main table tr", has=tab.page.locator("th")).first
    return {"result": result.get_attribute("data-result") or "", "text": result.inner_text(),
            "role": result.get_attribute("role") or "",
            "size": size.locator("td").inner_text().strip(),
            "checkpoint": tab.page.locator("section[aria-labelledby=cp-title]").inner_text(),
            "problem_lang": tab.page.evaluate(
                "() => { const c = document.querySelector('#verify-result code');"
                " return c ? (c.closest('[lang]') || document.documentElement)"
                ".getAttribute('lang') : null; }")}


@pytest.mark.parametrize(("lang", "width"), [("id", 1280), ("en", 375)],
                         ids=["id-1280", "en-375"])
def test_an_auditor_verifies_the_log_and_sees_a_tampered_entry_named(
        lang: str, width: int, open_tab: Callable[..., Tab], live_server: Any,
        axe_ready: None) -> None:
    started = time.monotonic()
    walk = Walk()
    tab = open_tab(lang=lang, width=width)
    staff_world.browser_sign_in(live_server, tab, ROLE_USERS["auditor"], walk.check)
    tab.submit(tab.page.locator(".nav a", has_text=AUDIT_LOG[lang]), "audit-log")
    assert tab.path() == "/staf/audit"
    walk.check(tab, "audit log")

    # --- intact, with a checkpoint published by the scheduled job ----------------------------
    publish_checkpoint_job(live_server.ctx)
    before = _size(live_server)
    shown = _verify(tab, walk, "verified")
    assert CHECKPOINT_OK[lang] in shown["checkpoint"], shown
    assert shown["result"] == "ok" and shown["role"] == "status", shown
    assert shown["size"] == str(before) and str(before) in shown["text"], (shown, before)
    assert _last(live_server) == ("auditor", "audit.verify",
                                  {"ok": True, "size": before, "first_bad": None})

    # --- one row in the middle rewritten in the database --------------------------------------
    victim = before // 2
    with live_server.ctx.db.begin() as session:
        original = session.get(AuditEntry, victim)
        assert original is not None
        kept, kept_hash = original.reason, original.leaf_hash
        session.execute(update(AuditEntry).where(AuditEntry.seq == victim)
                        .values(reason=kept + " (diubah)"))
    try:
        shown = _verify(tab, walk, "tampered")
        assert shown["result"] == "failed" and shown["role"] == "alert", shown
        assert DAMAGED[lang] in shown["text"]
        assert FIRST_BAD[lang].format(seq=victim) in shown["text"], shown["text"]
        assert f"entry {victim} was altered" in shown["text"]
        # The problem is the verifier's own English words: marked so, on an Indonesian page
        # too, so a screen reader reads it in English (WCAG 3.1.2, language of parts).
        assert shown["problem_lang"] == "en", shown
        assert shown["size"] == str(victim - 1), shown  # the entries before it check out
        # The published checkpoint covers the changed entry: it cannot vouch for the log.
        assert CHECKPOINT_UNVERIFIED[lang] in shown["checkpoint"], shown
        assert _last(live_server) == ("auditor", "audit.verify",
                                      {"ok": False, "size": victim - 1, "first_bad": victim})
        # An attacker who also recomputes the row's hash is caught by the signed tree head.
        with live_server.ctx.db.begin() as session:
            row = session.get(AuditEntry, victim)
            assert row is not None
            fields = {c.key: getattr(row, c.key) for c in AuditEntry.__table__.columns}
            row.leaf_hash = merkle.leaf_hash(leaf_bytes(fields))
        shown = _verify(tab, walk, "tampered-rehashed")
        assert shown["result"] == "failed", shown
        assert FIRST_BAD[lang].format(seq=victim) in shown["text"], shown["text"]
        assert f"entry {victim}: signed tree head does not match" in shown["text"]
    finally:
        with live_server.ctx.db.begin() as session:
            session.execute(update(AuditEntry).where(AuditEntry.seq == victim)
                            .values(reason=kept, leaf_hash=kept_hash))

    # --- put back: intact again ---------------------------------------------------------------
    shown = _verify(tab, walk, "restored")
    assert shown["result"] == "ok", shown
    assert shown["size"] == str(_size(live_server) - 1)
    assert CHECKPOINT_OK[lang] in shown["checkpoint"], shown
    walk.close()
    assert not walk.problems, "\n".join(walk.problems)
    print(f"\n[audit {tab.variant}] {len(walk.pages)} pages in {time.monotonic() - started:.1f} s")
