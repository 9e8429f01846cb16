"""Issue 13, done-when 3: after its retention period a case's content cannot be decrypted with
any key present (no wrap of its keys is left, no sealed blob is left), the statistics still count
it, and the audit log shows the shredding. A legal hold suspends the expiry; all audited."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.functional.test_intake import CODE_RE, submit_form
from tests.functional.test_roundtrip import open_mailbox
from wbs import audit, jobs
from wbs.cases import reporter
from wbs.context import Context
from wbs.enums import CaseState
from wbs.models import (
    Attachment,
    AttachmentChunk,
    AuditEntry,
    Case,
    CaseEvent,
    CaseKeyWrap,
    LegalHold,
    Message,
    ReporterSession,
)
from wbs.ops import retention
from wbs.reports import overview
from wbs.settings import DEFAULT_RETENTION, Settings, parse_retention

REPORT = {"kind": "complaint", "title": "Pungutan liar di puskesmas",
          "what": "Petugas meminta uang tambahan.", "identity_mode": "confidential",
          "identity_name": "Rahasia Pelapor", "identity_phone": "0812999888"}


def _file_case(app: Any, client: TestClient) -> tuple[str, str]:
    r = submit_form(client, REPORT, files=[("bukti.txt", b"kuitansi 50.000", "text/plain")])
    code = CODE_RE.search(r.text)
    assert code
    reporter_client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    open_mailbox(reporter_client, code.group(1))
    token = csrf_from(reporter_client, "/kotak-pesan")
    assert reporter_client.post("/kotak-pesan/pesan", data={
        "csrf_token": token, "body": "Saya masih punya kuitansinya."}).status_code == 303
    with reporter_client:
        pass
    return code.group(1), CODE_RE.pattern


def _end(ctx: Context, number: str, state: CaseState, on: date) -> int:
    with ctx.db.begin() as session:
        case = session.scalars(select(Case).where(Case.case_number == number)).one()
        case.state = state.value
        session.add(CaseEvent(case_id=case.id, state=state.value, on=on))
        return case.id


def _numbers(ctx: Context) -> list[str]:
    with ctx.db() as session:
        return list(session.scalars(select(Case.case_number).order_by(Case.id)))


def _content_left(ctx: Context, case_id: int) -> dict[str, int]:
    with ctx.db() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return {
            "wraps": session.scalar(select(func.count()).select_from(CaseKeyWrap)
                                    .where(CaseKeyWrap.case_id == case_id)) or 0,
            "sessions": session.scalar(select(func.count()).select_from(ReporterSession)
                                       .where(ReporterSession.case_id == case_id)) or 0,
            "chunks": session.scalar(
                select(func.count()).select_from(AttachmentChunk).join(
                    Attachment, Attachment.id == AttachmentChunk.attachment_id)
                .where(Attachment.case_id == case_id)) or 0,
            "sealed_bytes": len(case.report_sealed) + len(case.identity_sealed or b"") + sum(
                len(b) for b in session.scalars(select(Message.body_sealed)
                                                .where(Message.case_id == case_id)))
            + sum(len(b) for b in session.scalars(select(Attachment.meta_sealed)
                                                  .where(Attachment.case_id == case_id))),
        }


def test_expired_case_is_shredded_counted_and_audited(app: Any, client: TestClient,
                                                       ctx: Context, demo: Any,
                                                       clock: Clock) -> None:
    code, _ = _file_case(app, client)
    number = _numbers(ctx)[0]
    ended = ctx.today()
    case_id = _end(ctx, number, CaseState.CLOSED, ended)
    before = _content_left(ctx, case_id)
    assert before["wraps"] >= 4 and before["chunks"] >= 1 and before["sealed_bytes"] > 0
    assert before["sessions"] >= 1

    clock.advance(days=(date(ended.year + 5, ended.month, ended.day) - ended).days - 1)
    assert jobs.run_all(ctx)["cases_shredded"] == 0  # the last day of the five years
    assert _content_left(ctx, case_id)["wraps"] == before["wraps"]
    clock.advance(days=1)
    assert jobs.run_all(ctx)["cases_shredded"] == 1
    assert _content_left(ctx, case_id) == {"wraps": 0, "sessions": 0, "chunks": 0,
                                           "sealed_bytes": 0}
    assert reporter.access_by_code(ctx, code) is None  # the code leads nowhere now
    assert reporter.status(ctx, code) is None
    with ctx.db() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.shredded_on == ctx.today()
        counted = overview.compute(session, ctx.today())
        assert counted.cell("complaint", "closed") == 1  # statistics still count it
        shred = session.scalars(select(AuditEntry).where(AuditEntry.action == "case.shred")).one()
        assert shred.case_number == number and shred.actor == "system"
        k = ctx.audit_keys
        assert audit.verify_log(session, k.public, k.origin, k.key_name).ok
    assert jobs.run_all(ctx)["cases_shredded"] == 0  # once


def test_a_legal_hold_suspends_expiry_until_lifted(app: Any, client: TestClient, ctx: Context,
                                                   demo: Any, clock: Clock) -> None:
    _file_case(app, client)
    number = _numbers(ctx)[0]
    case_id = _end(ctx, number, CaseState.CLOSED, ctx.today())
    retention.place_hold(ctx, number, "Perkara di Pengadilan Tipikor", "cli:admin")
    with pytest.raises(retention.HoldError, match="already_held"):
        retention.place_hold(ctx, number, "lagi", "cli:admin")
    clock.advance(days=6 * 366)
    assert jobs.run_all(ctx)["cases_shredded"] == 0
    assert _content_left(ctx, case_id)["wraps"] > 0
    retention.lift_hold(ctx, number, "Putusan berkekuatan hukum tetap", "cli:admin")
    assert retention.holds(ctx) == []
    assert jobs.run_all(ctx)["cases_shredded"] == 1
    with pytest.raises(retention.HoldError, match="already_shredded"):
        retention.place_hold(ctx, number, "terlambat", "cli:admin")
    with ctx.db() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.case_number == number,
            AuditEntry.action.in_(("case.legal_hold", "case.legal_hold_lifted", "case.shred")))
            .order_by(AuditEntry.seq)))
        assert actions == ["case.legal_hold", "case.legal_hold_lifted", "case.shred"]
        assert session.scalar(select(LegalHold.lifted_on)) == ctx.today()


def test_archived_incomplete_reports_go_sooner_and_open_cases_never(
        app: Any, client: TestClient, ctx: Context, demo: Any, clock: Clock) -> None:
    _file_case(app, client)
    _file_case(app, client)
    archived, still_open = _numbers(ctx)
    archived_id = _end(ctx, archived, CaseState.ARCHIVED, ctx.today())
    clock.advance(days=366)
    assert jobs.run_all(ctx)["cases_shredded"] == 1
    assert _content_left(ctx, archived_id)["wraps"] == 0
    clock.advance(days=20 * 366)
    assert jobs.run_all(ctx)["cases_shredded"] == 0  # the open case is never touched
    with ctx.db() as session:
        kept = session.scalars(select(Case).where(Case.case_number == still_open)).one()
        assert kept.shredded_on is None and len(kept.report_sealed) > 0


def test_cli_holds(ctx: Context, app: Any, client: TestClient, demo: Any, settings: Settings,
                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from wbs import cli

    _file_case(app, client)
    number = _numbers(ctx)[0]
    for name, value in (("DATABASE_URL", settings.database_url), ("KEYS_DIR",
                        str(settings.keys_dir)), ("DATA_DIR", str(settings.data_dir)),
                        ("BASE_URL", settings.base_url)):
        monkeypatch.setenv(f"WBS_{name}", value)
    assert cli.main(["hold", "add", number, "--reason", "Penyidikan Kejaksaan"]) == 0
    assert f"{number}  since" in capsys.readouterr().out
    assert cli.main(["hold", "add", "WBS-0000-000000", "--reason", "x"]) == 2
    assert "no case" in capsys.readouterr().err
    assert cli.main(["hold", "lift", number, "--reason", "  "]) == 2
    assert cli.main(["hold", "lift", number, "--reason", "Selesai"]) == 0
    assert cli.main(["hold", "lift", number, "--reason", "Selesai"]) == 2


def test_retention_settings_and_dates() -> None:
    assert parse_retention("") == DEFAULT_RETENTION
    assert {k: (a, u) for k, a, u in parse_retention("complaint=10y,archived=6m")
                }["complaint"] == (10, "y")
    for bad in ("complaint=5", "nothing=5y", "archived=29d", "complaint=0y", "archived=1w"):
        with pytest.raises(ValueError):
            parse_retention(bad)
    assert Settings.from_env({"WBS_RETENTION": "archived=90d"}).retention[-1] == \
        ("archived", 90, "d")
    expires = retention.expires_on
    assert expires("complaint", "closed", date(2028, 2, 29), DEFAULT_RETENTION) == \
        date(2033, 2, 28)
    assert expires("complaint", "archived", date(2026, 1, 31), parse_retention(
        "archived=1m")) == date(2026, 2, 28)
    assert expires("whistleblowing", "forwarded", date(2026, 12, 31), DEFAULT_RETENTION) == \
        date(2031, 12, 31)
    assert expires("complaint", "archived", date(2026, 3, 2), parse_retention(
        "archived=30d")) == date(2026, 3, 2) + timedelta(days=30)
