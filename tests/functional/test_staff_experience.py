"""Issue 9, item 9 (staff), over HTTP with real crypto: the custodian's pending work, "Start
processing" once started, choices and reasons kept after a refused action, dates and codes as
words, duplicates spotted from metadata, and the leadership's overview against a hand count."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.conftest import sign_in as http_sign_in
from tests.functional.test_roundtrip import staff_open
from tests.functional.workflow_helpers import (
    ROLE_USERS,
    Driver,
    audit_since,
    file_report,
    last_seq,
    reporter_access,
    staff_team,
    state_of,
)
from wbs.cases import identity, intake, routing
from wbs.cases.workflow import Action
from wbs.context import Context
from wbs.enums import CaseState, Channel, ReportKind
from wbs.models import Case, Deadline, Notice, User

ISO_DAY = re.compile(r"\b20[0-9]{2}-[01][0-9]-[0-3][0-9]\b")


def _client(app: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def _signed_in(app: Any, demo: Any, clock: Clock, role: str, lang: str = "id") -> TestClient:
    client = _client(app)
    client.headers["Accept-Language"] = lang
    username = ROLE_USERS[role]
    assert http_sign_in(client, demo[username], username, clock).status_code == 303
    clock.advance(seconds=31)  # the next sign-in of anyone gets a fresh TOTP step
    return client


def _team(ctx: Context, demo: Any, clock: Clock) -> dict[str, Any]:
    team = staff_team(ctx, demo, clock, *ROLE_USERS.values())
    clock.advance(seconds=31)
    return {role: team[user] for role, user in ROLE_USERS.items()}


def _confidential(ctx: Context, investigator: Any) -> str:
    report = intake.ReportInput(kind=ReportKind.WHISTLEBLOWING, title="Suap izin",
                                what="Pejabat meminta uang untuk izin usaha.",
                                identity=intake.Identity(name="Siti", phone="0812"))
    number = intake.submit(ctx, report, [], Channel.WEB).case_number
    routing.apip_intake(ctx, investigator, number)
    return number


def _main(html: str) -> str:
    return html.split('<main', 1)[1].split("</main>", 1)[0]


# --- the custodian's start page -------------------------------------------------------------

def test_finding_9_custodian_dashboard_shows_a_waiting_identity_request(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    team = _team(ctx, demo, clock)
    number = _confidential(ctx, team["investigator"])
    identity.request_identity(ctx, team["investigator"], number,
                              "Laporan resmi kepada Kejaksaan memerlukan identitas pelapor.")
    custodian = _signed_in(app, demo, clock, "custodian")
    page = custodian.get("/staf")
    main = _main(page.text)
    assert 'id="identity-waiting"' in main and number in main
    assert "Tidak ada pekerjaan" not in main  # "There is no pending work for you."
    assert 'href="/staf/identitas"' in main
    # The custodians got a notice (their e-mail), which the decision settles.
    with ctx.db() as s:
        waiting = s.scalars(select(Notice).join(User, User.id == Notice.user_id).where(
            Notice.kind == "identity_request", User.username == "inspektur",
            Notice.done_on.is_(None))).all()
    assert len(waiting) == 1
    request_id = identity.pending_requests(ctx, team["custodian"])[0].id
    identity.decide(ctx, team["custodian"], request_id, True,
                    "Perlu untuk laporan resmi, sesuai PP 43/2018.")
    after = _main(custodian.get("/staf").text)
    assert 'id="identity-waiting"' not in after and number not in after
    with ctx.db() as s:
        assert s.scalars(select(Notice).where(Notice.kind == "identity_request",
                                              Notice.done_on.is_(None))).all() == []


def test_custodian_who_approved_waits_for_the_others(
        app: Any, demo: Any, clock: Clock, ctx: Context, settings: Any) -> None:
    from dataclasses import replace

    ctx.settings = replace(settings, identity_quorum=2)
    team = _team(ctx, demo, clock)
    number = _confidential(ctx, team["investigator"])
    identity.request_identity(ctx, team["investigator"], number,
                              "Laporan resmi kepada Kejaksaan memerlukan identitas pelapor.")
    request_id = identity.pending_requests(ctx, team["custodian"])[0].id
    assert identity.decide(ctx, team["custodian"], request_id, True,
                           "Setuju, untuk laporan resmi.") == "pending"
    custodian = _signed_in(app, demo, clock, "custodian")
    assert 'id="identity-waiting"' not in custodian.get("/staf").text
    queue = custodian.get("/staf/identitas").text
    assert number in queue and f'action="/staf/identitas/{request_id}"' not in queue


# --- "Start processing" ---------------------------------------------------------------------

def test_finding_9_start_processing_is_not_offered_once_started(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    team = _team(ctx, demo, clock)
    number = Driver(ctx, team).build("local", CaseState.VERIFIED).number
    liaison = _signed_in(app, demo, clock, "liaison")
    assert "/aksi/start_processing" in staff_open(liaison, number).text
    token = csrf_from(liaison, f"/staf/kasus/{number}")
    done = liaison.post(f"/staf/kasus/{number}/aksi/start_processing",
                        data={"csrf_token": token})
    assert done.status_code == 303 and "galat" not in done.headers["location"]
    page = liaison.get(f"/staf/kasus/{number}").text
    assert "/aksi/start_processing" not in page and "/aksi/answer" in page


def test_second_unit_can_still_start_while_the_first_works(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    team = _team(ctx, demo, clock)
    filed = file_report(ctx)
    routing.verify_and_dispose(ctx, team["verifier"], filed.number,
                               classification="no_oversight", resolution_days=14,
                               unit_slugs=["dinas-kesehatan", "dinas-pendidikan"])
    routing.start_processing(ctx, team["liaison"], filed.number)  # dinas-kesehatan
    assert state_of(ctx, filed.number) == "in_process"
    other = _signed_in(app, demo, clock, "liaison")
    other.cookies.clear()
    http_sign_in(other, demo["penghubung.pendidikan"], "penghubung.pendidikan", clock)
    assert "/aksi/start_processing" in staff_open(other, filed.number).text


# --- a refused action keeps what was chosen and typed -----------------------------------------

def test_finding_9_refused_verification_keeps_the_choices(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    filed = file_report(ctx)
    verifier = _signed_in(app, demo, clock, "verifier")
    staff_open(verifier, filed.number)
    token = csrf_from(verifier, f"/staf/kasus/{filed.number}")
    # Classification and time chosen, but no unit: refused.
    r = verifier.post(f"/staf/kasus/{filed.number}/aksi/verify_and_dispose",
                      data={"csrf_token": token, "classification": "needs_oversight",
                            "resolution_days": "60"})
    assert r.status_code == 400
    assert re.search(r'id="cl-1"[^>]*value="needs_oversight"[^>]*checked', r.text)
    assert re.search(r'id="rd-60"[^>]*value="60"[^>]*checked', r.text)
    assert not re.search(r'id="cl-2"[^>]*checked', r.text)
    assert 'id="act-verify_and_dispose-error"' in r.text
    assert state_of(ctx, filed.number) == "received"


@pytest.mark.parametrize(("action", "field", "selector"), [
    ("archive", "reason", 'id="ar-reason"'),
    ("hand_to_apip", "reason", 'id="ha-reason"'),
    ("forward_external", "reason", 'id="fw-reason"'),
    ("request_info", "text", 'id="ri-text"'),
])
def test_refused_reason_stays_in_its_box(app: Any, demo: Any, clock: Clock, ctx: Context,
                                         action: str, field: str, selector: str) -> None:
    filed = file_report(ctx)
    verifier = _signed_in(app, demo, clock, "verifier")
    staff_open(verifier, filed.number)
    token = csrf_from(verifier, f"/staf/kasus/{filed.number}")
    typed = "Du<&"  # too short for a reason or question, and needing escaping
    r = verifier.post(f"/staf/kasus/{filed.number}/aksi/{action}",
                      data={"csrf_token": token, field: typed, "target": "other_agency"})
    assert r.status_code == 400
    box = r.text.split(selector, 1)[1].split(">", 2)
    assert "Du&lt;&amp;" in "".join(box[:2]), box[:2]
    assert f'id="act-{action}" open' in r.text
    assert state_of(ctx, filed.number) == "received"


def test_refused_message_and_identity_reason_are_kept(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    team = _team(ctx, demo, clock)
    number = _confidential(ctx, team["investigator"])
    investigator = _signed_in(app, demo, clock, "investigator")
    staff_open(investigator, number)
    token = csrf_from(investigator, f"/staf/kasus/{number}")
    r = investigator.post(f"/staf/kasus/{number}/pesan", data={"csrf_token": token,
                                                                "body": "   "})
    assert r.status_code == 400 and 'id="body-error"' in r.text
    r = investigator.post(f"/staf/kasus/{number}/identitas/minta",
                          data={"csrf_token": token, "reason": "Perlu"})
    assert r.status_code == 400 and 'id="id-reason-error"' in r.text
    assert ">Perlu</textarea>" in r.text
    assert identity.pending_requests(ctx, team["custodian"]) == []


def test_refused_custodian_decision_keeps_the_reason(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    team = _team(ctx, demo, clock)
    number = _confidential(ctx, team["investigator"])
    identity.request_identity(ctx, team["investigator"], number,
                              "Laporan resmi kepada Kejaksaan memerlukan identitas pelapor.")
    request_id = identity.pending_requests(ctx, team["custodian"])[0].id
    custodian = _signed_in(app, demo, clock, "custodian")
    token = csrf_from(custodian, "/staf/identitas")
    r = custodian.post(f"/staf/identitas/{request_id}",
                       data={"csrf_token": token, "decision": "approve", "reason": "Setuju"})
    assert r.status_code == 400 and ">Setuju</textarea>" in r.text
    assert identity.pending_requests(ctx, team["custodian"])[0].approvals == 0


def test_refused_coordinator_close_keeps_the_reason_in_its_row(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    team = _team(ctx, demo, clock)
    filed = Driver(ctx, team).build("local", CaseState.ANSWERED)
    routing.reporter_act(ctx, reporter_access(ctx, filed.code), Action.REPORTER_OBJECTS,
                         "Jawaban belum lengkap.")
    leader = _signed_in(app, demo, clock, "leadership")
    token = csrf_from(leader, "/staf/sengketa")
    r = leader.post(f"/staf/kasus/{filed.number}/aksi/coordinator_close",
                    data={"csrf_token": token, "reason": "Tdk"})
    assert r.status_code == 400
    assert re.search(r'name="reason"[^>]*value="Tdk"[^>]*aria-invalid="true"', r.text)
    assert state_of(ctx, filed.number) == "in_process"


# --- dates and codes as words ---------------------------------------------------------------

def test_finding_9_case_page_dates_are_words_in_each_language(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    filed = file_report(ctx)
    received = ctx.today()
    for lang, months in (("id", ("Maret",)), ("en", ("March",))):
        verifier = _signed_in(app, demo, clock, "verifier", lang)
        page = _main(staff_open(verifier, filed.number).text)
        assert f"{received.day} {months[0]} {received.year}" in page
        shown = re.sub(r'datetime="[^"]*"', "", page)  # machine-readable attributes aside
        assert not ISO_DAY.search(shown), ISO_DAY.search(shown)
        listing = _main(verifier.get("/staf/kasus").text)
        assert not ISO_DAY.search(re.sub(r'datetime="[^"]*"', "", listing))


def test_finding_9_audit_log_shows_labels_and_dates_in_words(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    team = _team(ctx, demo, clock)
    Driver(ctx, team).build("local", CaseState.VERIFIED)
    auditor = _signed_in(app, demo, clock, "auditor", "en")
    page = _main(auditor.get("/staf/audit").text)
    assert "Status change: verified and dispositioned" in page
    assert "result of examination: No oversight needed (tidak berkadar pengawasan)" in page
    assert "units: Dinas Kesehatan" in page or "units: dinas-kesehatan" in page
    assert "2 March 2026, " in page  # the time column, in words, UTC
    cells = re.findall(r'<td class="nowrap-date"><time datetime="[^"]+">([^<]+)</time>', page)
    assert cells and not any(ISO_DAY.search(c) for c in cells)
    # The scrolling table can take the keyboard's focus (axe: scrollable-region-focusable).
    assert re.search(r'class="table-scroll" role="region" tabindex="0"', page)
    indonesian = _main(_signed_in(app, demo, clock, "auditor", "id").get("/staf/audit").text)
    assert "Perubahan status: diverifikasi dan didisposisikan" in indonesian
    assert "2 Maret 2026, " in indonesian


def test_finding_9_calendar_shows_rule_names_and_dates_in_words(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    from wbs.cases import calendar_admin

    calendar_admin.set_override(ctx, "admin", "administrator", date(2026, 11, 29), False,
                                "Hari Jadi Kabupaten")
    admin = _signed_in(app, demo, clock, "administrator")
    page = _main(admin.get("/staf/kalender").text)
    assert "29 November 2026" in page
    assert "Jawaban: berkadar pengawasan dan pemeriksaan lapangan" in page
    assert ">answer_60<" not in page and ">2026-11-29<" not in page


def test_finding_9_dossier_pdf_has_labels_and_dates_in_words(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    from pypdf import PdfReader

    team = _team(ctx, demo, clock)
    filed = Driver(ctx, team).build("apip", CaseState.IN_PROCESS)
    investigator = _signed_in(app, demo, clock, "investigator")
    staff_open(investigator, filed.number)
    r = investigator.get(f"/staf/kasus/{filed.number}/dosier.pdf")
    assert r.status_code == 200
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(r.content)).pages)
    text = " ".join(text.split())
    assert "Pengaduan pelanggaran (WBS) / Whistleblowing" in text
    assert "2 Maret 2026" in text and "Formulir web / Web form" in text
    assert "whistleblowing" not in text.replace("Whistleblowing", "")
    assert not ISO_DAY.search(text)


# --- duplicates, from metadata ---------------------------------------------------------------

def test_finding_9_case_list_points_at_likely_duplicates(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    first = file_report(ctx, reported_unit="dinas-pupr")
    second = file_report(ctx, reported_unit="dinas-pupr")
    other_unit = file_report(ctx, reported_unit="dinas-kesehatan")
    late = file_report(ctx, reported_unit="dinas-pupr")
    with ctx.db.begin() as s:  # received three weeks later: outside the window
        s.execute(update(Case).where(Case.case_number == late.number)
                  .values(received_on=ctx.today() + timedelta(days=21)))
    verifier = _signed_in(app, demo, clock, "verifier")
    listing = verifier.get("/staf/kasus").text
    counts = dict(re.findall(r'href="/staf/kasus\?mirip=([A-Z0-9-]+)" data-similar="(\d+)"',
                             listing))
    assert counts == {first.number: "1", second.number: "1"}
    assert "Dinas Pekerjaan Umum" in listing  # the reported unit is a column
    similar = verifier.get(f"/staf/kasus?mirip={first.number}").text
    assert second.number in similar and other_unit.number not in similar
    assert late.number not in similar
    # Nothing was decrypted to find them: no case view in the audit log.
    with ctx.db() as s:
        from wbs.models import AuditEntry

        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "case.view")).all() == []


def test_similar_cases_never_reveal_cases_outside_the_readers_view(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    complaint = file_report(ctx, reported_unit="dinas-pupr")
    hidden = file_report(ctx, ReportKind.WHISTLEBLOWING, reported_unit="dinas-pupr")
    also_hidden = file_report(ctx, ReportKind.WHISTLEBLOWING, reported_unit="dinas-pupr")
    verifier = _signed_in(app, demo, clock, "verifier")
    listing = verifier.get("/staf/kasus").text
    assert hidden.number not in listing and "data-similar" not in listing
    assert verifier.get(f"/staf/kasus?mirip={hidden.number}").status_code == 404
    page = verifier.get(f"/staf/kasus?mirip={complaint.number}").text
    assert hidden.number not in page and also_hidden.number not in page


# --- the leadership's overview ----------------------------------------------------------------

def test_finding_9_overview_counts_match_a_hand_count(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    team = _team(ctx, demo, clock)
    driver = Driver(ctx, team)
    built = [("complaint", driver.build("local", s)) for s in (
        CaseState.RECEIVED, CaseState.RECEIVED, CaseState.VERIFIED, CaseState.IN_PROCESS,
        CaseState.ANSWERED, CaseState.CLOSED, CaseState.ARCHIVED, CaseState.FORWARDED)]
    built += [("whistleblowing", driver.build("apip", s)) for s in (
        CaseState.RECEIVED, CaseState.IN_PROCESS, CaseState.ANSWERED)]
    aspiration = file_report(ctx, ReportKind.ASPIRATION)
    # Two obligations overdue on one complaint, one on the whistleblowing report at APIP.
    late_complaint = built[0][1].number
    late_whistle = built[8][1].number
    with ctx.db.begin() as s:
        for number in (late_complaint, late_whistle):
            case_id = s.scalars(select(Case.id).where(Case.case_number == number)).one()
            s.execute(update(Deadline).where(Deadline.case_id == case_id,
                                             Deadline.met_on.is_(None))
                      .values(due_on=ctx.today() - timedelta(days=1)))
        extra = s.scalars(select(Deadline).where(Deadline.met_on.is_(None))).first()
        assert extra is not None
    leader = _signed_in(app, demo, clock, "leadership", "en")
    seq = last_seq(ctx)
    page = leader.get("/staf/ikhtisar")
    assert page.status_code == 200
    cells = dict(re.findall(r'data-cell="([a-z_]+/[a-z_]+)">(?:<strong[^>]*>)?(\d+)', page.text))
    # The hand count.
    assert cells["complaint/received"] == "2"
    assert cells["complaint/verified"] == "1" and cells["complaint/in_process"] == "1"
    assert cells["complaint/answered"] == "1" and cells["complaint/closed"] == "1"
    assert cells["complaint/archived"] == "1" and cells["complaint/forwarded"] == "1"
    assert cells["complaint/total"] == "8" and cells["complaint/open"] == "5"
    assert cells["whistleblowing/received"] == "1"
    assert cells["whistleblowing/in_process"] == "1"
    assert cells["whistleblowing/answered"] == "1" and cells["whistleblowing/total"] == "3"
    assert cells["aspiration/received"] == "1" and cells["aspiration/total"] == "1"
    assert cells["information_request/total"] == "0"
    assert cells["complaint/overdue"] == "1" and cells["whistleblowing/overdue"] == "1"
    assert cells["total/total"] == "12" and cells["total/overdue"] == "2"
    assert cells["total/received"] == "4" and cells["total/open"] == "9"
    assert aspiration.number not in page.text  # figures only: no case numbers
    entries = audit_since(ctx, seq)
    assert [e.action for e in entries] == ["stats.overview_view"]


@pytest.mark.parametrize("role", ["verifier", "liaison", "investigator", "custodian",
                                  "auditor", "administrator"])
def test_overview_is_leaderships_alone(app: Any, demo: Any, clock: Clock, ctx: Context,
                                       role: str) -> None:
    client = _signed_in(app, demo, clock, role)
    seq = last_seq(ctx)
    assert client.get("/staf/ikhtisar").status_code == 403
    denied = audit_since(ctx, seq)
    assert [(e.action, e.outcome) for e in denied] == [("access.route", "denied")]
