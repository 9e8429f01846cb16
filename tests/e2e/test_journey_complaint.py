"""A citizen complaint from the public form to the SKM results (issue 14, browser journeys).

One real path through the live server, in Bahasa Indonesia and once in English: a citizen files
a complaint on /lapor; the verifier opens it (stating a purpose), verifies and disposes it to
Dinas Kesehatan; that unit's liaison (penghubung) starts processing and answers; the reporter
reads the answer in the mailbox, accepts it and confirms; the case closes, the mailbox invites
the reporter to the complaint-service survey, and the reporter rates the nine SKM elements;
the administrator's SKM page then counts that response in the round's result. Each person has
a browser of their own; each step asserts what the person sees and what the server stored;
every page shown passes the page checks (axe-core WCAG 2.x A/AA and the rest).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.e2e.conftest import Tab
from tests.e2e.journey import Journey, file_report, open_mailbox
from tests.functional.workflow_helpers import DISPOSED_UNIT, ROLE_USERS, audit_since, last_seq
from wbs.cases import service
from wbs.enums import CaseState, ReportKind
from wbs.models import Case, CaseKeyWrap, PendingAuditEntry, Unit
from wbs.reports.tables import SkmResponse, SkmSurvey

pytestmark = pytest.mark.e2e

TITLE = {"id": "Antrean obat di puskesmas", "en": "Medicine queue at the health centre"}
WHAT = {"id": "Pasien menunggu obat lebih dari empat jam di Puskesmas Kota.",
        "en": "Patients wait more than four hours for medicine at the town health centre."}
ANSWER = {"id": "Loket obat kedua dibuka mulai Senin; antrean kini di bawah satu jam.",
          "en": "A second medicine counter opens on Monday; the queue is now under an hour."}
# The nine ratings the reporter gives (1 = poor … 4 = very good).
RATINGS = (4, 3, 4, 2, 3, 4, 4, 3, 4)


@dataclass(frozen=True)
class Round:
    id: int
    token: str


@pytest.fixture(scope="module")
def complaint_round(live_server: Any) -> Round:
    """An SKM round rating the complaint service, open today, as an administrator opens it.

    Opened through the service; a round of its own unit and start day, so another test's round
    does not collide.
    """
    from wbs.accounts import StaffIdentity
    from wbs.enums import Role
    from wbs.models import User
    from wbs.reports import surveys

    ctx = live_server.ctx
    with ctx.db() as session:
        admin = session.scalars(select(User).where(User.username == "admin")).one()
    staff = StaffIdentity(user_id=admin.id, username=admin.username, display_name="",
                          role=Role.ADMINISTRATOR, unit_id=admin.unit_id, unit_slug=None,
                          session_id=0, token=b"\0" * 32, private_key_sealed=b"")
    today = ctx.today()
    token = surveys.create(ctx, staff, unit_slug="inspektorat",
                           service="Penanganan pengaduan masyarakat",
                           start=today - timedelta(days=3),
                           end=today.replace(year=today.year + 1), for_complaints=True)
    with ctx.db() as session:
        survey_id = session.scalars(select(SkmSurvey.id).where(SkmSurvey.token == token)).one()
    return Round(survey_id, token)


def _responses(server: Any, survey_id: int) -> list[tuple[int, ...]]:
    with server.db() as session:
        rows = session.execute(select(
            SkmResponse.e1, SkmResponse.e2, SkmResponse.e3, SkmResponse.e4, SkmResponse.e5,
            SkmResponse.e6, SkmResponse.e7, SkmResponse.e8, SkmResponse.e9, SkmResponse.source)
            .where(SkmResponse.survey_id == survey_id).order_by(SkmResponse.id)).all()
    return [tuple(row) for row in rows]


def _case(server: Any, number: str) -> Case:
    with server.db() as session:
        return session.scalars(select(Case).where(Case.case_number == number)).one()


def _holding_units(server: Any, number: str) -> set[str]:
    with server.db() as session:
        return set(session.scalars(
            select(Unit.slug).join(CaseKeyWrap, CaseKeyWrap.recipient_id == Unit.id)
            .join(Case, Case.id == CaseKeyWrap.case_id)
            .where(Case.case_number == number, CaseKeyWrap.purpose == "content",
                   CaseKeyWrap.recipient_kind == "unit")))


def _count_in_page(tab: Tab, survey_id: int) -> int:
    figure = tab.page.locator(f'[data-figure="skm-{survey_id}"]')
    if figure.count() == 0:
        return 0
    text = figure.inner_text()
    # "Responses: N." / "Tanggapan: N." — the first number in the sentence.
    digits = "".join(ch if ch.isdigit() else " " for ch in text).split()
    return int(digits[0])


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_complaint_from_the_public_form_to_the_skm_result(
        lang: str, open_tab: Callable[..., Tab], live_server: Any, complaint_round: Round,
        axe_ready: None) -> None:
    from wbs.reports import surveys

    ctx = live_server.ctx
    # The round the mailbox invites to: the newest complaint-service round open today (this
    # module's, unless a test run in the same session opened a newer one).
    current = surveys.open_for_complaints(ctx, ctx.today())
    assert current is not None
    invited = Round(current.id, current.token)
    journey = Journey(open_tab, live_server, lang)
    seq = last_seq(ctx)

    # The administrator's SKM page before: how many responses the round has.
    admin_tab, _admin = journey.staff("admin", ROLE_USERS["administrator"])
    journey.goto(admin_tab, "/staf/skm", "skm-before")
    shown_before = _count_in_page(admin_tab, invited.id)
    stored_before = _responses(live_server, invited.id)
    assert shown_before == len(stored_before)

    # 1. The citizen files a complaint on the public form.
    citizen = journey.tab("citizen")
    number, code = file_report(journey, citizen, "complaint", TITLE[lang], WHAT[lang])
    case = _case(live_server, number)
    assert (case.kind, case.state) == (ReportKind.COMPLAINT.value, CaseState.RECEIVED.value)
    assert TITLE[lang].encode() not in case.report_sealed  # stored sealed, not in clear

    # 2. The verifier opens it, reads it, verifies and disposes it to Dinas Kesehatan.
    verifier_tab, verifier = journey.staff("verifier", ROLE_USERS["verifier"])
    journey.open_case(verifier_tab, number, "verifier")
    page = verifier_tab.page
    assert WHAT[lang] in page.inner_text("main")
    form = page.locator("#act-verify_and_dispose")
    page.check("#cl-2")
    page.check("#rd-14")
    page.check(f"#u-{DISPOSED_UNIT}")
    journey.check(verifier_tab, "verifier-dispose-filled")
    journey.submit(verifier_tab, form.locator("button[type=submit]"), "verifier-disposed")
    assert _case(live_server, number).state == CaseState.VERIFIED.value
    assert DISPOSED_UNIT in _holding_units(live_server, number)

    # 3. The unit's liaison starts processing and answers.
    liaison_tab, liaison = journey.staff("liaison", ROLE_USERS["liaison"])
    journey.goto(liaison_tab, "/staf/kasus", "liaison-cases")
    assert number in liaison_tab.page.inner_text("main"), "the disposed case is not listed"
    journey.open_case(liaison_tab, number, "liaison")
    page = liaison_tab.page
    assert WHAT[lang] in page.inner_text("main")
    journey.submit(liaison_tab, page.locator("#act-start_processing button[type=submit]"),
                   "liaison-started")
    assert _case(live_server, number).state == CaseState.IN_PROCESS.value
    page.fill("#an-text", ANSWER[lang])
    journey.check(liaison_tab, "liaison-answer-typed")
    journey.submit(liaison_tab, page.locator("#act-answer button[type=submit]"),
                   "liaison-answered")
    assert _case(live_server, number).state == CaseState.ANSWERED.value

    # 4. The reporter reads the answer in the mailbox, accepts it and confirms.
    open_mailbox(journey, citizen, code, "mailbox-answered")
    page = citizen.page
    assert ANSWER[lang] in page.locator("#respond .answer").inner_text()
    page.check("#r-accept")
    journey.submit(citizen, page.locator("#respond button[type=submit]"), "accept-chosen")
    assert _case(live_server, number).state == CaseState.ANSWERED.value  # not before confirming
    journey.submit(citizen, page.locator("#confirm-response button[value=confirm]"),
                   "accept-confirmed")
    closed = _case(live_server, number)
    assert closed.state == CaseState.CLOSED.value

    # 5. The closed case's mailbox invites to the complaint-service survey.
    invite = page.locator("#survey-invite")
    assert invite.count() == 1, "no survey invitation in the closed case's mailbox"
    journey.submit(citizen, invite.get_by_role("link"), "survey")
    assert citizen.path() == f"/survei/{invited.token}"
    for element, rating in enumerate(RATINGS, start=1):
        page.locator(f"label[for=e{element}-{rating}]").click()
    journey.check(citizen, "survey-filled")
    journey.submit(citizen, page.locator("main form button[type=submit]"), "survey-sent")
    stored = _responses(live_server, invited.id)
    assert len(stored) == len(stored_before) + 1
    assert stored[-1] == (*RATINGS, "web")
    # Not linked to the case: no column of the response names it (RULES §9).
    assert not {"case_id", "case_number"} & set(SkmResponse.__table__.columns.keys())

    # 6. The administrator's SKM page counts the response in the round's result.
    journey.goto(admin_tab, "/staf/skm", "skm-after")
    assert _count_in_page(admin_tab, invited.id) == shown_before + 1

    # What the server recorded of the path, in order, by whom.
    actions = [(e.actor, e.action) for e in audit_since(ctx, seq) if e.case_number == number]
    names = [a for _actor, a in actions]
    for expected in ("case.purpose", "case.transition.verify_and_dispose",
                     "case.transition.start_processing", "case.transition.answer"):
        assert expected in names, f"{expected}: {actions}"
    assert ("verifikator", "case.transition.verify_and_dispose") in actions
    assert (ROLE_USERS["liaison"], "case.transition.answer") in actions
    # The reporter's acceptance waits, staged with its day alone, for the day's batch append
    # (DESIGN §4): in the log's pending table now, never timed in the log.
    with live_server.db() as session:
        staged = session.scalars(select(PendingAuditEntry.action).where(
            PendingAuditEntry.case_number == number)).all()
    assert "case.transition.reporter_accepts" in staged, staged
    assert service.can_list(ctx, liaison, number) and service.can_list(ctx, verifier, number)

    print(f"\njourney complaint→SKM [{lang}]: {journey.pages} pages checked, "
          f"{journey.seconds():.1f} s")
    journey.assert_pages_pass()
