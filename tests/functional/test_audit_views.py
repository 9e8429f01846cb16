"""The auditor's log, export and verification, leadership's staff activity, and the public
transparency page, through HTTP with demo users (SQLite, and PostgreSQL under `make pg`)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select, text
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in, totp_now
from wbs import audit
from wbs.app import all_routes, create_app
from wbs.audit import checkpoint as cp
from wbs.audit import merkle
from wbs.context import Context
from wbs.enums import AuditOutcome
from wbs.jobs import publish_checkpoint_job
from wbs.models import AuditCheckpoint, AuditEntry
from wbs.settings import Settings
from wbs.web import audit_views

# The time cell shows a date in words; its machine-readable form is the <time> element's value.
ROW = re.compile(r'<tr>\s*<th scope="row">(\d+)</th>\s*<td[^>]*><time datetime="([^"]*)">[^<]*'
                 r'</time></td>\s*<td>([^<]*)</td>')


@pytest.fixture
def app(settings: Settings, ctx: Context) -> Any:
    # Until app.py lists these routes, add them here; afterwards the app has them already.
    listed = any(getattr(route, "path", None) == "/staf/audit" for route in all_routes())
    application = create_app(settings, context=ctx,
                              extra_routes=None if listed else audit_views.routes())
    application.state.failure_floor = 0.0
    return application


@pytest.fixture
def auditor(client: TestClient, demo: dict[str, Any], clock: Clock) -> TestClient:
    assert sign_in(client, demo["auditor"], "auditor", clock).status_code == 303
    return client


def rows_of(page: str) -> list[tuple[int, str, str]]:
    """(seq, time, actor) of each entry shown in the log table, in page order."""
    return [(int(seq), time, html.unescape(actor)) for seq, time, actor in ROW.findall(page)]


def entries(ctx: Context, **where: Any) -> list[AuditEntry]:
    with ctx.db() as s:
        query = select(AuditEntry).filter_by(**where).order_by(AuditEntry.seq)
        return list(s.scalars(query))


def add(ctx: Context, n: int = 1, **fields: Any) -> None:
    """Append entries straight through the audit API, as a case service would."""
    values = {"actor": "investigator", "role": "investigator", "action": "case.view", **fields}
    with ctx.db.begin() as s:
        for _ in range(n):
            audit.record(s, ctx.audit_keys, now=ctx.now(), **values)


def fail_sign_in(client: TestClient, demo: dict[str, Any], clock: Clock, username: str) -> None:
    token = csrf_from(client, "/masuk")
    r = client.post("/masuk", data={"csrf_token": token, "username": username,
                                    "password": "not-the-password",
                                    "totp": totp_now(demo[username]["totp_secret"], clock)})
    assert r.status_code == 401


# --- the log ------------------------------------------------------------------------------

def test_auditor_sees_entries_and_filters_narrow_them(
        client: TestClient, demo: dict[str, Any], clock: Clock, ctx: Context) -> None:
    fail_sign_in(client, demo, clock, "verifikator")
    clock.advance(days=1)
    sign_in(client, demo["auditor"], "auditor", clock)

    page = client.get("/staf/audit")
    assert page.status_code == 200
    shown = rows_of(page.text)
    everything = entries(ctx)
    # Newest first; the view's own entry is written after the page was read.
    assert [seq for seq, _, _ in shown] == [e.seq for e in reversed(everything[:-1])][:50]
    assert everything[-1].action == "audit.view" and everything[-1].actor == "auditor"
    assert "auth.sign_in" in page.text

    by_actor = rows_of(client.get("/staf/audit", params={"actor": "verifikator"}).text)
    assert by_actor and {actor for _, _, actor in by_actor} == {"verifikator"}

    denied = client.get("/staf/audit", params={"outcome": "denied"}).text
    expected = [e.seq for e in reversed(entries(ctx, outcome="denied"))]
    assert [seq for seq, _, _ in rows_of(denied)] == expected
    assert expected  # the failed sign-in

    by_action = rows_of(client.get("/staf/audit", params={"action": "auth.sign_in"}).text)
    sign_ins = {e.seq for e in entries(ctx) if e.action == "auth.sign_in"}
    assert sign_ins == {seq for seq, _, _ in by_action}

    today = clock().date().isoformat()
    recent = rows_of(client.get("/staf/audit", params={"from": today, "to": today}).text)
    assert recent and all(time.startswith(today) for _, time, _ in recent)
    assert not any(actor == "verifikator" for _, _, actor in recent)  # that was yesterday
    combined = client.get("/staf/audit", params={"actor": "verifikator", "outcome": "denied",
                                                 "case": "none-such"})
    assert combined.status_code == 200 and rows_of(combined.text) == []

    views = entries(ctx, action="audit.view")
    assert len(views) == 6
    # A filter's first page counts its matches (up to a cap); it has no page number.
    assert json.loads(views[2].details) == {"outcome": "denied", "total": len(expected)}
    assert views[-1].case_number == "none-such"  # the case's own trail shows the look-up


def test_pagination(auditor: TestClient, ctx: Context) -> None:
    add(ctx, 120, action="test.fill")
    # The whole log: numbered pages, each a range of sequence numbers.
    whole = auditor.get("/staf/audit")
    assert 'href="/staf/audit?page=2"' in whole.text and 'aria-current="page"' in whole.text
    # A filter: pages by key (issue 12), the links carry the sequence number they continue at.
    first = auditor.get("/staf/audit", params={"action": "test.fill"})
    fills = [e.seq for e in entries(ctx, action="test.fill")]
    assert [s for s, _, _ in rows_of(first.text)] == fills[::-1][:50]
    assert "120" in first.text
    after = fills[::-1][49]
    assert f'href="/staf/audit?action=test.fill&amp;setelah={after}"' in first.text
    second = auditor.get("/staf/audit", params={"action": "test.fill", "setelah": str(after)})
    assert [s for s, _, _ in rows_of(second.text)] == fills[::-1][50:100]
    third = auditor.get("/staf/audit", params={"action": "test.fill",
                                               "setelah": str(fills[::-1][99])})
    assert [s for s, _, _ in rows_of(third.text)] == fills[::-1][100:]
    assert 'rel="next"' not in third.text and 'rel="prev"' in third.text
    for junk in ("-1", "²", "1" * 30):
        again = auditor.get("/staf/audit", params={"action": "test.fill", "setelah": junk})
        assert rows_of(again.text) == rows_of(first.text)


@pytest.mark.parametrize("params", [{"from": "2026-13-45"}, {"to": "yesterday"},
                                    {"from": "2026-03-05", "to": "2026-03-01"},
                                    {"outcome": "maybe"}, {"action": "DROP TABLE;"},
                                    {"actor": "x" * 65}])
def test_bad_filters_get_a_friendly_page(auditor: TestClient, ctx: Context,
                                         params: dict[str, str]) -> None:
    before = len(entries(ctx))
    r = auditor.get("/staf/audit", params=params)
    assert r.status_code == 400
    assert 'aria-invalid="true"' in r.text and 'role="alert"' in r.text
    assert rows_of(r.text) == []
    assert len(entries(ctx)) == before  # nothing shown, nothing recorded
    assert auditor.get("/staf/audit/ekspor.csv", params=params).status_code == 400


# --- export -------------------------------------------------------------------------------

def test_csv_export_is_filtered_neutralised_and_audited(auditor: TestClient, ctx: Context) -> None:
    add(ctx, 3, action="case.view", case_number="WBS-2026-00001")
    add(ctx, action="case.view", case_number="WBS-2026-00001",
        reason="=HYPERLINK(\"http://evil.example\",\"klik\")", details={"note": "@SUM(1)"})
    add(ctx, action="case.view", case_number="WBS-2026-00001", reason="Pemeriksaan lanjutan")
    add(ctx, action="case.view", case_number="WBS-2026-00002")

    r = auditor.get("/staf/audit/ekspor.csv", params={"case": "WBS-2026-00001"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "charset=utf-8" in r.headers["content-type"]
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["cache-control"] == "no-store"
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0] == ["seq", "occurred_at", "actor", "role", "action", "case_number", "outcome",
                        "reason", "details"]
    body = table[1:]
    expected = entries(ctx, case_number="WBS-2026-00001", action="case.view")
    assert [int(row[0]) for row in body] == [e.seq for e in expected]
    assert len(body) == 5
    reasons = [row[7] for row in body]
    assert "'=HYPERLINK(\"http://evil.example\",\"klik\")" in reasons
    assert "Pemeriksaan lanjutan" in reasons  # plain text untouched, UTF-8 intact
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)

    export = entries(ctx, action="audit.export")
    assert len(export) == 1 and export[0].actor == "auditor"
    assert export[0].case_number == "WBS-2026-00001"
    details = json.loads(export[0].details)
    assert details["rows"] == 5 and details["case"] == "WBS-2026-00001"
    # The export holds the rows counted when it was recorded, not its own entry.
    assert details["through"] == export[0].seq - 1


def test_export_of_many_rows_streams_every_row(auditor: TestClient, ctx: Context) -> None:
    add(ctx, audit_views.EXPORT_BATCH + 7, action="test.fill", actor="-dash")
    r = auditor.get("/staf/audit/ekspor.csv", params={"action": "test."})
    body = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]
    assert len(body) == audit_views.EXPORT_BATCH + 7
    assert {row[2] for row in body} == {"'-dash"}
    assert json.loads(entries(ctx, action="audit.export")[0].details)["rows"] == len(body)


# --- who may see what ---------------------------------------------------------------------

@pytest.mark.parametrize("username", ["verifikator", "investigator", "admin", "pimpinan"])
@pytest.mark.parametrize("path", ["/staf/audit", "/staf/audit/ekspor.csv",
                                  "/staf/audit/verifikasi"])
def test_other_roles_are_refused_and_recorded(
        client: TestClient, demo: dict[str, Any], clock: Clock, ctx: Context, username: str,
        path: str) -> None:
    sign_in(client, demo[username], username, clock)
    r = client.get(path)
    assert r.status_code == 403
    refused = entries(ctx, actor=username, action="access.route", outcome="denied")
    assert len(refused) == 1
    assert json.loads(refused[0].details)["route"] == path
    assert not entries(ctx, action="audit.view") and not entries(ctx, action="audit.export")


def test_signed_out_visitor_is_sent_to_sign_in(client: TestClient) -> None:
    for path in ("/staf/audit", "/staf/audit/ekspor.csv", "/staf/aktivitas"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/masuk"


# --- verification -------------------------------------------------------------------------

def _tamper(ctx: Context, seq: int) -> None:
    with ctx.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # The append-only trigger refuses the UPDATE; replica mode (superuser only, this
            # transaction only) stands in for an intruder who disabled it.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("UPDATE audit_entries SET reason = 'rewritten' WHERE seq = :seq"),
                     {"seq": seq})


def test_verify_page_ok_then_names_the_tampered_entry(auditor: TestClient, ctx: Context) -> None:
    publish_checkpoint_job(ctx)
    ok = auditor.get("/staf/audit/verifikasi")
    assert ok.status_code == 200
    assert 'data-result="ok"' in ok.text
    before = entries(ctx)[:-1]  # the log as verified, before the verify entry
    assert before[-1].root_hash.hex() in ok.text  # the root it recomputed
    with ctx.db() as s:
        published = s.scalars(select(AuditCheckpoint)).one()
    assert html.escape(published.signed_note) in ok.text
    size = len(before)
    verified = entries(ctx, action="audit.verify")
    assert json.loads(verified[0].details) == {"ok": True, "size": size, "first_bad": None}

    _tamper(ctx, 3)
    bad = auditor.get("/staf/audit/verifikasi")
    assert bad.status_code == 200
    assert 'data-result="failed"' in bad.text
    assert "entry 3 was altered" in bad.text
    last = entries(ctx, action="audit.verify")[-1]
    assert json.loads(last.details) == {"ok": False, "size": 2, "first_bad": 3}


def test_verify_page_still_reports_when_nothing_can_be_appended(auditor: TestClient,
                                                                ctx: Context) -> None:
    size = len(entries(ctx))
    with ctx.engine.begin() as conn:  # the head claims an entry that is not there
        conn.execute(text("UPDATE audit_head SET tree_size = tree_size + 1"))
    r = auditor.get("/staf/audit/verifikasi")
    assert r.status_code == 200
    assert 'data-result="failed"' in r.text and f"entry {size + 1} is missing" in r.text
    assert r.text.count('role="alert"') == 2  # the damage, and that this check went unrecorded
    assert len(entries(ctx)) == size


# --- staff activity -----------------------------------------------------------------------

ACTIVITY_ROW = re.compile(r'<tr>\s*<th scope="row">([^<]+)</th>(.*?)</tr>', re.S)
CELL = re.compile(r'data-col="(\w+)">(?:<strong>)?(\d+)')


def activity_of(page: str) -> dict[str, dict[str, int]]:
    return {actor: {col: int(n) for col, n in CELL.findall(cells)}
            for actor, cells in ACTIVITY_ROW.findall(page)}


def test_leadership_sees_activity_counts(client: TestClient, demo: dict[str, Any], clock: Clock,
                                         ctx: Context) -> None:
    for _ in range(3):
        fail_sign_in(client, demo, clock, "investigator")
    assert sign_in(client, demo["investigator"], "investigator", clock).status_code == 303
    client.cookies.clear()
    add(ctx, 2, action="case.view", case_number="WBS-2026-00001")
    add(ctx, action="attachment.download", case_number="WBS-2026-00002")
    add(ctx, action="identity.read", case_number="WBS-2026-00002")
    add(ctx, action="case.view", case_number="WBS-2026-00003", outcome=AuditOutcome.DENIED)
    add(ctx, 2, action="message.staff", case_number="WBS-2026-00001")
    add(ctx, action="case.transition", case_number="WBS-2026-00001",
        details={"from": "received", "to": "verified"})
    add(ctx, action="case.purpose", case_number="WBS-2026-00004")  # opens nothing
    add(ctx, action="case.view", actor="reporter", role="reporter")  # not staff: left out
    # Older than the default 30 days: outside the period.
    clock.advance(days=40)
    assert sign_in(client, demo["pimpinan"], "pimpinan", clock).status_code == 303
    old_period = client.get("/staf/aktivitas", params={"from": "2026-03-01",
                                                       "to": "2026-03-02"})
    counts = activity_of(old_period.text)["investigator"]
    assert counts == {"case_access": 4, "messages": 2, "state_changes": 1, "denials": 4,
                      "cases_touched": 3}
    assert "reporter" not in activity_of(old_period.text)

    recent = client.get("/staf/aktivitas")
    assert recent.status_code == 200
    assert "investigator" not in activity_of(recent.text)
    assert "pimpinan" in activity_of(recent.text)  # the sign-in just now
    views = entries(ctx, action="staff.activity_view", actor="pimpinan")
    assert [json.loads(v.details)["from"] for v in views] == ["2026-03-01", "2026-03-13"]

    bad = client.get("/staf/aktivitas", params={"from": "31/03/2026"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text


def test_three_failed_sign_ins_are_three_denials(client: TestClient, demo: dict[str, Any],
                                                 clock: Clock, ctx: Context) -> None:
    for _ in range(3):
        fail_sign_in(client, demo, clock, "verifikator")
    sign_in(client, demo["pimpinan"], "pimpinan", clock)
    counts = activity_of(client.get("/staf/aktivitas").text)
    assert counts["verifikator"]["denials"] == 3
    assert counts["verifikator"]["case_access"] == 0


@pytest.mark.parametrize("username", ["auditor", "investigator", "admin"])
def test_activity_is_for_leadership_only(client: TestClient, demo: dict[str, Any], clock: Clock,
                                         ctx: Context, username: str) -> None:
    sign_in(client, demo[username], username, clock)
    assert client.get("/staf/aktivitas").status_code == 403
    refused = entries(ctx, actor=username, action="access.route", outcome="denied")
    assert json.loads(refused[0].details)["permission"] == "staff:activity:read"


# --- public transparency ------------------------------------------------------------------

NOTE = re.compile(r'<pre class="note" id="checkpoint-note">(.*?)</pre>', re.S)


def test_transparency_page_shows_a_verifiable_checkpoint(
        client: TestClient, demo: dict[str, Any], ctx: Context) -> None:
    empty = client.get("/transparansi")
    assert empty.status_code == 200 and not NOTE.search(empty.text)
    assert client.get("/api/v1/transparansi/checkpoint").status_code == 404

    published = publish_checkpoint_job(ctx)
    page = client.get("/transparansi")
    assert page.status_code == 200
    assert "<script" not in page.text and "style=" not in page.text
    match = NOTE.search(page.text)
    assert match
    note = html.unescape(match.group(1))
    keys = ctx.audit_keys
    checkpoint = cp.parse_and_verify(note, keys.key_name, keys.public)
    assert checkpoint.size == len(entries(ctx)) and note == published
    assert cp.verifier_key_string(keys.key_name, keys.public) in page.text

    raw = client.get("/api/v1/transparansi/checkpoint")
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("text/plain")
    assert raw.text == note
    # Nothing of any entry is on the public page: no actor, no action.
    assert "penghubung.pendidikan" not in page.text and "unit.create" not in page.text


def test_consistency_proof_verifies(client: TestClient, demo: dict[str, Any],
                                    ctx: Context) -> None:
    keys = ctx.audit_keys
    old = cp.parse_and_verify(publish_checkpoint_job(ctx), keys.key_name, keys.public)
    add(ctx, 13, action="test.fill")
    new = cp.parse_and_verify(publish_checkpoint_job(ctx), keys.key_name, keys.public)
    assert publish_checkpoint_job(ctx) == publish_checkpoint_job(ctx)  # no growth, no new row
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(AuditCheckpoint)) == 2

    r = client.get("/api/v1/transparansi/consistency",
                   params={"from": str(old.size), "to": str(new.size)})
    assert r.status_code == 200
    body = r.json()
    assert body["from"] == old.size and body["to"] == new.size
    proof = [bytes.fromhex(h) for h in body["proof"]]
    assert proof and merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    # Only published sizes are served: the live tree size (which would time every entry,
    # a reporter's too) cannot be probed through this public endpoint.
    other = client.get("/api/v1/transparansi/consistency",
                       params={"from": str(old.size - 1), "to": str(new.size)})
    assert other.status_code == 400
    assert str(new.size + 1) not in other.text
    same = client.get("/api/v1/transparansi/consistency",
                      params={"from": str(new.size), "to": str(new.size)}).json()
    assert same["proof"] == []


@pytest.mark.parametrize("params", [{}, {"from": "1"}, {"from": "abc", "to": "2"},
                                    {"from": "5", "to": "3"}, {"from": "0", "to": "3"},
                                    {"from": "1", "to": "999999"}, {"from": "-1", "to": "2"},
                                    {"from": "1" * 30, "to": "2"}])
def test_consistency_bad_params_are_400(client: TestClient, demo: dict[str, Any],
                                        params: dict[str, str]) -> None:
    r = client.get("/api/v1/transparansi/consistency", params=params)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"] == "bad_request"


def test_pages_render_in_english_and_indonesian(client: TestClient, demo: dict[str, Any],
                                                clock: Clock, ctx: Context) -> None:
    english = client
    english.headers["Accept-Language"] = "en"
    publish_checkpoint_job(ctx)
    assert "How to check that the log only grew" in english.get("/transparansi").text
    sign_in(english, demo["auditor"], "auditor", clock)
    page = english.get("/staf/audit")
    assert '<html lang="en">' in page.text and "Download as CSV" in page.text
    assert '<label for="f-from">' in page.text and '<th scope="col">' in page.text
    del english.headers["Accept-Language"]
    assert '<html lang="id">' in english.get("/staf/audit/verifikasi").text


def test_auditor_json_api(client: Any, demo: Any, clock: Any, ctx: Any) -> None:
    from tests.conftest import sign_in as _sign_in

    _sign_in(client, demo["auditor"], "auditor", clock)
    r = client.get("/api/v1/audit/entries?actor=auditor&action=auth.")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] >= 1
    assert all(e["actor"] == "auditor" and e["action"].startswith("auth.")
               for e in body["entries"])
    assert client.get("/api/v1/audit/entries?from=yesterday").status_code == 400
    client.cookies.clear()
    assert client.get("/api/v1/audit/entries").status_code == 401
    _sign_in(client, demo["pimpinan"], "pimpinan", clock)
    assert client.get("/api/v1/audit/entries").status_code == 403
