"""Issue 8, finding 8: nothing may place a reporter's act within the day.

The reporter acts through the HTTP app at 13:37–13:39 local time (WIB, 06:37–06:39 UTC): files
reports on the page and through the API, looks up the status, opens the mailbox, writes,
uploads, adds an identity, downloads, objects to an answer, supplies missing data, asks for
APIP, and replaces a code from staff intake. Staff work at other hours; the jobs run at 13:40
and 13:45 (one job interval after the acts), at 15:00 (a notice batch) and after midnight
(the daily append). Then every column of every row of every table, every log line and every
mail is searched for a time of day near the acts: 13:3x / 13:4x local, 06:3x / 06:4x UTC, the
Unix time in seconds or milliseconds (as digits, or as 8 bytes in either byte order).
"""

from __future__ import annotations

import gc
import io
import json
import logging
import re
import time as wall
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, inspect, select, text
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.functional.test_intake import CODE_RE, submit_form
from tests.functional.workflow_helpers import QUESTION, Driver, file_report, staff_team, view
from wbs import jobs, logs
from wbs.cases import intake, routing
from wbs.context import Context
from wbs.enums import CaseState, Channel, ReportKind
from wbs.models import AuditEntry, Notice, PendingAuditEntry, User
from wbs.web import housekeeping
from wbs.web.reporter import MAILBOX_COOKIE

WIB = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 3, 3)  # a Tuesday
ACT = datetime(2026, 3, 3, 13, 37, 5, tzinfo=WIB)
# The window around the acts that nothing may point into: 13:30 to 13:50 local.
WINDOW = (datetime(2026, 3, 3, 13, 30, tzinfo=WIB), datetime(2026, 3, 3, 13, 50, tzinfo=WIB))
TIME_TEXT = re.compile(r"(?<![0-9])(?:13|06)[:.h][34][0-9](?![0-9])")
TIME_BYTES = re.compile(rb"(?<![0-9])(?:13|06):[34][0-9](?![0-9])")
DIGITS = re.compile(rb"[0-9]{10,13}")
REPORT = {"kind": "complaint", "title": "Pungutan liar", "what": "Biaya KTP diminta Rp 100.000.",
          "identity_mode": "anonymous"}


def at(hour: int, minute: int, second: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=WIB).astimezone(UTC)


def _epoch_range() -> range:
    return range(int(WINDOW[0].timestamp()), int(WINDOW[1].timestamp()))


EPOCHS = _epoch_range()
EPOCH_BYTES = {n.to_bytes(8, order) for n in EPOCHS for order in ("big", "little")}


def _in_window(moment: datetime) -> bool:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC
    return WINDOW[0] <= moment < WINDOW[1]


def _epoch_like(blob: bytes) -> list[str]:
    return [m.group(0).decode() for m in DIGITS.finditer(blob)
            if int(m.group(0)) in EPOCHS or int(m.group(0)) // 1000 in EPOCHS]


def _suspicious_text(value: str) -> list[str]:
    return [m.group(0) for m in TIME_TEXT.finditer(value)] + _epoch_like(value.encode())


def _suspicious_bytes(value: bytes) -> list[str]:
    # A sealed blob is random: these patterns are long enough not to turn up in one by chance.
    found = [m.group(0).decode() for m in TIME_BYTES.finditer(value)] + _epoch_like(value)
    return found + ["the Unix time as 8 bytes" for i in range(len(value) - 7)
                    if value[i:i + 8] in EPOCH_BYTES]


def _problems(value: Any) -> list[str]:
    if value is None or isinstance(value, bool | float):
        return []
    if isinstance(value, datetime):
        return [value.isoformat()] if _in_window(value) else []
    if isinstance(value, time):
        local = datetime.combine(DAY, value, tzinfo=UTC)  # a bare time: either reading
        return [str(value)] if _in_window(local) or _in_window(local.replace(tzinfo=WIB)) else []
    if isinstance(value, date):
        return []
    if isinstance(value, int):
        return [str(value)] if value in EPOCHS or value // 1000 in EPOCHS else []
    if isinstance(value, str):
        return _suspicious_text(value)
    if isinstance(value, bytes | memoryview):
        return _suspicious_bytes(bytes(value))
    return _suspicious_text(str(value))


def scan_database(db_url: str) -> dict[str, list[str]]:
    engine = create_engine(db_url)
    found: dict[str, list[str]] = {}
    rows_seen = 0
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608 - own names
                rows_seen += 1
                for column, value in row._mapping.items():
                    for problem in _problems(value):
                        found.setdefault(f"{table}.{column}", []).append(problem)
    engine.dispose()
    assert rows_seen > 100  # the scan really read the database
    return found


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    stream = io.StringIO()
    logs.configure(stream=stream)
    # The test client's own request log is the browser's side, not the server's.
    client_log = logging.getLogger("httpx2")
    client_level = client_log.level
    client_log.setLevel(logging.WARNING)
    yield stream
    root.handlers[:] = saved
    root.setLevel(level)
    client_log.setLevel(client_level)


def _reporter(app: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def _mailbox(app: Any, code: str) -> TestClient:
    browser = _reporter(app)
    token = csrf_from(browser, "/kotak-pesan")
    r = browser.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": code})
    assert r.status_code == 303, r.text[:300]
    return browser


def _respond(app: Any, code: str, response: str, clock: Clock) -> None:
    browser = _mailbox(app, code)
    clock.advance(seconds=7)
    token = csrf_from(browser, "/kotak-pesan")
    seen = re.search(r'name="answer" value="(\d+)"', browser.get("/kotak-pesan").text)
    assert seen  # the confirmation names the answer it is about (review 9)
    r = browser.post("/kotak-pesan/tanggapan", data={
        "csrf_token": token, "response": response, "text": "Jawaban belum menyelesaikan masalah.",
        "answer": seen.group(1), "step": "confirm"})  # as the confirmation page sends it
    assert r.status_code == 303, r.text[:300]


def _act_as_reporters(app: Any, clock: Clock, cases: dict[str, Any]) -> None:
    """Everything a reporter can do, through the HTTP app, between 13:37 and 13:40."""
    clock.current = ACT.astimezone(UTC)
    web = _reporter(app)
    r = submit_form(web, REPORT, files=[("kuitansi.txt", b"kuitansi 100.000", "text/plain")])
    assert r.status_code == 200
    found = CODE_RE.search(r.text)
    assert found
    code = found.group(1)
    clock.advance(seconds=13)
    api = _reporter(app)
    assert api.post("/api/v1/reports", json=REPORT).status_code == 201
    clock.advance(seconds=9)
    token = csrf_from(web, "/status")
    assert web.post("/status", data={"csrf_token": token, "code": code}).status_code == 200
    assert api.post("/api/v1/status", json={"code": code}).status_code == 200
    clock.advance(seconds=11)
    browser = _mailbox(app, code)
    token = csrf_from(browser, "/kotak-pesan")
    assert browser.post("/kotak-pesan/pesan", data={
        "csrf_token": token, "body": "Kuitansi saya lampirkan."}).status_code == 303
    clock.advance(seconds=17)
    assert browser.post("/kotak-pesan/lampiran", data={"csrf_token": token}, files=[
        ("files", ("foto.txt", b"bukti kedua", "text/plain"))]).status_code == 303
    assert browser.post("/kotak-pesan/identitas", data={
        "csrf_token": token, "identity_name": "Siti", "identity_phone": "0812"}
    ).status_code == 303
    page = browser.get("/kotak-pesan")
    download = re.search(r'href="(/kotak-pesan/lampiran/[0-9]+)"', page.text)
    assert download, page.text[:500]
    assert browser.get(download.group(1)).status_code == 200
    assert api.post("/api/v1/mailbox", json={"code": code}).status_code == 200
    clock.advance(seconds=21)
    _respond(app, cases["objecting"].code, "object", clock)
    _respond(app, cases["to_apip"].code, "apip", clock)
    clock.advance(seconds=19)
    supplier = _mailbox(app, cases["needs_info"].code)
    token = csrf_from(supplier, "/kotak-pesan")
    assert supplier.post("/kotak-pesan/pesan", data={
        "csrf_token": token, "body": "Foto kuitansi terlampir."}).status_code == 303
    clock.advance(seconds=23)
    walk_in = _reporter(app)
    token = csrf_from(walk_in, "/kotak-pesan")
    ask = walk_in.post("/kotak-pesan/masuk", data={"csrf_token": token,
                                                    "code": cases["walk_in"].code})
    assert ask.status_code == 200 and 'action="/kotak-pesan/kode-baru"' in ask.text
    token = csrf_from(walk_in, "/kotak-pesan")
    done = walk_in.post("/kotak-pesan/kode-baru", data={"csrf_token": token,
                                                        "code": cases["walk_in"].code})
    assert done.status_code == 200 and CODE_RE.search(done.text)
    assert walk_in.cookies.get(MAILBOX_COOKIE)
    assert clock() < at(13, 40)


def _staff_morning(ctx: Context, demo: Any, clock: Clock) -> dict[str, Any]:
    """Cases the reporters act on later, prepared by staff between 09:00 and 11:00."""
    clock.current = at(9, 0)
    with ctx.db.begin() as s:
        for user in s.scalars(select(User)):
            user.email = f"{user.username}@pemda.example"
    team = staff_team(ctx, demo, clock, "verifikator", "penghubung.kesehatan", "investigator")
    driver = Driver(ctx, {"verifier": team["verifikator"],
                          "liaison": team["penghubung.kesehatan"]})
    clock.current = at(9, 10)
    objecting = driver.build("local", CaseState.ANSWERED)
    clock.current = at(9, 20)
    to_apip = driver.build("local", CaseState.ANSWERED)
    clock.current = at(10, 0)
    needs_info = file_report(ctx)
    routing.request_info(ctx, team["verifikator"], needs_info.number, QUESTION)
    clock.current = at(10, 20)
    walk_in = intake.submit(ctx, intake.ReportInput(
        kind=ReportKind.COMPLAINT, title="Laporan lisan", what="Disampaikan di loket."),
        [], Channel.FACE_TO_FACE, entered_by="verifikator")
    clock.current = at(11, 0)
    jobs.run_all(ctx)  # the morning's notices and checkpoint go out before the reporters act
    clock.current = at(12, 0, 20)
    jobs.run_all(ctx)  # and the 12:00 batch (the reports filed in the morning)
    return {"objecting": objecting, "to_apip": to_apip, "needs_info": needs_info,
            "walk_in": walk_in, "team": team}


def test_finding_8_no_time_of_day_of_a_reporter_anywhere(
        app: Any, client: TestClient, demo: Any, clock: Clock, ctx: Context, db_url: str,
        settings: Any, log_lines: io.StringIO) -> None:
    cases = _staff_morning(ctx, demo, clock)
    # Connections earlier tests left to the garbage collector are reported when collected, at
    # any moment; collect them now so that the log below holds only what this test caused.
    gc.collect()
    written_before = len(log_lines.getvalue())
    started = wall.time()
    _act_as_reporters(app, clock, cases)
    # While reporters are served, nothing is written to the log: not even an untimed line,
    # whose place among timed ones would date it.
    during = log_lines.getvalue()[written_before:]
    assert during == "", during[:2000]
    assert wall.time() - started < 600

    for hour, minute in ((13, 40), (13, 45)):  # one and two job intervals after the acts
        clock.current = at(hour, minute)
        counts = jobs.run_all(ctx)
        assert counts["emails_sent"] == 0 and counts["reporter_entries_appended"] == 0
    with ctx.db() as s:
        held = s.scalars(select(Notice).where(Notice.batch_at == at(15, 0))).all()
        assert held and all(n.emailed_at is None for n in held)
        assert {n.kind for n in held} >= {"new_task", "objection", "info_supplied"}
        assert s.scalars(select(PendingAuditEntry)).first() is not None

    clock.current = at(15, 0, 30)  # the 15:00 batch goes out
    assert jobs.run_all(ctx)["emails_sent"] >= len(held)
    clock.current = at(16, 10)  # staff work on after the batch
    view(ctx, cases["team"]["penghubung.kesehatan"], cases["objecting"].number)
    clock.current = at(0, 5, day=DAY + timedelta(days=1))  # the day has ended
    assert jobs.run_all(ctx)["reporter_entries_appended"] >= 10
    housekeeping.end_of_day(ctx)  # what the serving process held for the day

    problems = scan_database(db_url)
    assert problems == {}, problems

    mails = sorted(Path(settings.mail_dir).glob("*.eml"))
    assert mails
    batch_dates = set()
    for path in mails:
        raw = path.read_bytes()
        assert _suspicious_text(raw.decode()) == [], path.name
        assert _suspicious_bytes(raw) == [], path.name
        header = re.search(rb"^Date: (.+)$", raw, re.M)
        assert header
        batch_dates.add(header.group(1).decode())
    assert "Tue, 03 Mar 2026 08:00:00 +0000" in batch_dates  # 15:00 WIB, the batch time

    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert lines
    for entry in lines:
        text_of = json.dumps(entry)
        assert _suspicious_text(text_of) == [], entry
        if not logs.is_staff_path(str(entry.get("path", "/staf"))):
            assert "ts" not in entry and "day" in entry, entry
    public_lines = [e for e in lines if e.get("event") == "request" and e.get("path") == "/lapor"
                    and e.get("day") == DAY.isoformat()]
    assert public_lines and all("ts" not in e for e in public_lines)

    # The reporters' entries reached the log dated, after every staff entry of their day.
    with ctx.db() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    reporter_seqs = [e.seq for e in entries if e.role == "reporter"]
    staff_that_day = [e.seq for e in entries
                      if e.role != "reporter" and e.occurred_at.startswith("2026-03-03T")]
    assert reporter_seqs and staff_that_day
    assert min(reporter_seqs) > max(staff_that_day)
    assert {e.occurred_at for e in entries if e.role == "reporter"
            and e.seq in reporter_seqs[-10:]} == {"2026-03-03"}
