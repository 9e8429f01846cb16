"""Staff sessions and cases for the browser tests of the staff pages.

Cases are driven into their states through the real service functions (as the functional tests
do); staff sign in through the real sign-in service (password, TOTP, session), and the browser
gets the session cookie. A TOTP code is refused once used in its window, so every sign-in moves
the live server's clock to a later 30-second step than any before it in this run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pyotp
from sqlalchemy import select

from tests.functional.workflow_helpers import ROLE_USERS, Driver, Filed, file_report
from wbs import accounts
from wbs.accounts import StaffIdentity
from wbs.cases import calendar_admin, identity, intake, routing, service
from wbs.cases.workflow import Action
from wbs.enums import CaseState, Channel, ReportKind
from wbs.models import Case

SESSION_COOKIE = "__Host-wbs"
_steps = [0]


def _next_step(server: Any) -> None:
    _steps[0] += 1
    start = getattr(server, "_staff_epoch", None)
    if start is None:
        start = server.clock.current
        server._staff_epoch = start
    server.clock.current = max(server.clock.current,
                               start + timedelta(seconds=31 * _steps[0]))


def sign_in(server: Any, username: str) -> tuple[str, StaffIdentity]:
    """A fresh staff session through the service: (cookie token, the identity behind it)."""
    _next_step(server)
    creds = server.creds[username]
    code = pyotp.TOTP(creds["totp_secret"]).at(server.clock.current)
    result = accounts.sign_in(server.ctx, username, creds["password"], code, "e2e")
    staff = accounts.load_session(server.ctx, result.token)
    assert staff is not None
    return result.token, staff


def browser_sign_in(server: Any, tab: Any, username: str,
                    check: Callable[[Any, str], None] | None = None) -> StaffIdentity:
    """Sign in through the sign-in page, as a person would; the identity behind the cookie.

    `check(tab, label)`, if given, is run on the sign-in page and on the page after it."""
    _next_step(server)
    creds = server.creds[username]
    tab.goto("/masuk", "sign-in")
    if check is not None:
        check(tab, "sign-in")
    tab.page.fill("#username", username)
    tab.page.fill("#password", creds["password"])
    tab.page.fill("#totp", pyotp.TOTP(creds["totp_secret"]).at(server.clock.current))
    tab.submit(tab.page.locator("main button[type=submit]"), "signed-in")
    if check is not None:
        check(tab, "signed-in")
    token = next(c["value"] for c in tab.page.context.cookies() if c["name"] == SESSION_COOKIE)
    staff = accounts.load_session(server.ctx, token)
    assert staff is not None, "the browser's session is not valid"
    return staff


def state_purpose(server: Any, staff: StaffIdentity, number: str) -> None:
    service.state_purpose(server.ctx, staff, number, "Menangani pengaduan")


@dataclass
class World:
    local: dict[str, Filed] = field(default_factory=dict)  # state → case (complaint route)
    apip: dict[str, Filed] = field(default_factory=dict)  # state → case (APIP route)
    dispute: str = ""
    identity_case: str = ""
    duplicate_pair: tuple[str, str] = ("", "")
    # Complaints of the liaison's unit with a compensation claim: just claimed by the reporter,
    # and decided (file complete, decision recorded, not yet delivered).
    compensation: tuple[str, str] = ("", "")
    published_report: int = 0  # a report document leadership published (/statistik/laporan/N)


def build(server: Any) -> World:
    ctx = server.ctx
    staff = {role: sign_in(server, user)[1] for role, user in ROLE_USERS.items()
             if role in ("verifier", "liaison", "investigator")}
    driver = Driver(ctx, staff)
    world = World()
    for state in CaseState:
        world.local[state.value] = driver.build("local", state)
    for state in (CaseState.RECEIVED, CaseState.NEEDS_INFO, CaseState.VERIFIED,
                  CaseState.IN_PROCESS, CaseState.ANSWERED):
        world.apip[state.value] = driver.build("apip", state)
    # A dispute: the reporter objected to an answer (RULES §6).
    disputed = driver.build("local", CaseState.ANSWERED)
    from tests.functional.workflow_helpers import reporter_access

    routing.reporter_act(ctx, reporter_access(ctx, disputed.code), Action.REPORTER_OBJECTS,
                         "Jawaban belum menjawab pertanyaan saya.")
    world.dispute = disputed.number
    # An identity request waiting for the custodians.
    world.identity_case = confidential_request(ctx, staff["investigator"])
    # Two reports of the same matter: the duplicate pointer of the case list.
    first = file_report(ctx, ReportKind.COMPLAINT, reported_unit="dinas-pupr")
    second = file_report(ctx, ReportKind.COMPLAINT, reported_unit="dinas-pupr")
    world.duplicate_pair = (first.number, second.number)
    world.compensation = compensation_cases(server, driver)
    world.published_report = published_report(server)
    calendar_admin.set_override(ctx, "admin", "administrator",
                                server.clock.current.date() + timedelta(days=40), False,
                                "Hari Jadi Kabupaten")
    with ctx.db() as session:
        assert session.scalars(select(Case.id)).first() is not None
    return world


def confidential_request(ctx: Any, investigator: StaffIdentity) -> str:
    """A confidential whistleblowing report at APIP whose investigator asked for the identity."""
    report = intake.ReportInput(
        kind=ReportKind.WHISTLEBLOWING, title="Suap perizinan",
        what="Pejabat meminta uang untuk izin usaha.",
        identity=intake.Identity(name="Siti Pelapor", phone="0812 0000 0000"))
    number = intake.submit(ctx, report, [], Channel.WEB).case_number
    routing.apip_intake(ctx, investigator, number)
    identity.request_identity(ctx, investigator, number,
                              "Diperlukan untuk laporan resmi kepada Kejaksaan (PP 43/2018).")
    return number


def compensation_cases(server: Any, driver: Driver) -> tuple[str, str]:
    """Two complaints in process at the liaison's unit, each with a claim the reporter made in
    the mailbox; the second with its file complete and the decision recorded by the liaison."""
    from tests.functional.workflow_helpers import reporter_access
    from wbs.cases import compensation

    ctx, liaison = server.ctx, driver.staff["liaison"]
    items = [{"description": "Biaya berobat ke klinik swasta", "amount": "350.000"},
             {"description": "Ongkos perjalanan dua kali", "amount": "80000"}]
    claimed = driver.build("local", CaseState.IN_PROCESS)
    compensation.claim_by_reporter(ctx, reporter_access(ctx, claimed.code), items)
    decided = driver.build("local", CaseState.IN_PROCESS)
    compensation.claim_by_reporter(ctx, reporter_access(ctx, decided.code), items)
    compensation.file_complete(ctx, liaison, decided.number)
    compensation.decide(ctx, liaison, decided.number, amount="430000",
                        payment_due_on=server.clock.current.date() + timedelta(days=30),
                        reason="Biaya berobat dan perjalanan terbukti dengan kuitansi.")
    return claimed.number, decided.number


def published_report(server: Any) -> int:
    """A yearly report leadership drew up and published (its public copy on /statistik)."""
    from wbs.reports import documents
    from wbs.reports.statistics import Period

    leadership = sign_in(server, ROLE_USERS["leadership"])[1]
    today = server.clock.current.date()
    report_id = documents.create(server.ctx, leadership, "yearly",
                                 Period(today.replace(month=1, day=1), today),
                                 corrective="Loket pengaduan dibuka setiap hari kerja.",
                                 recommendations="Menambah petugas penghubung di puskesmas.")
    documents.publish(server.ctx, leadership, report_id)
    return report_id
