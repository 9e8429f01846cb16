"""Issue 13, done-when 7: two `wbs serve` processes on one PostgreSQL. A staff session made on
one is used on the other, a report submitted on one is found on the other, and the jobs run on
both at once act once (every notice e-mailed exactly once). Nothing is kept in memory that a
second server would lack."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from tests.live_server import REPO, LiveServer, live_server, server_env
from wbs import notices
from wbs.context import Context
from wbs.models import Case, Notice, Unit, User
from wbs.settings import Settings

CODE_RE = re.compile(r"\b([A-Z0-9]{4}(?:-[A-Z0-9]{4}){5})\b")


def _cookies(response: httpx.Response, jar: dict[str, str]) -> dict[str, str]:
    # httpx will not send Secure cookies over plain HTTP: carry them by hand, as a browser would
    # over HTTPS.
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


def _header(jar: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}


def _token(server: LiveServer, path: str, jar: dict[str, str]) -> str:
    page = httpx.get(server.base + path, headers=_header(jar), timeout=30)
    _cookies(page, jar)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:300]
    return match.group(1)


@pytest.fixture
def two_servers(settings: Settings, ctx: Context, demo: Any,
                tmp_path: Path) -> Any:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("scale-out is for PostgreSQL (SQLite is one file on one host)")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with live_server(settings, tmp_path / "a") as a, live_server(settings, tmp_path / "b") as b:
        yield a, b


def test_two_servers_share_sessions_reports_and_act_once(
        two_servers: tuple[LiveServer, LiveServer], settings: Settings, ctx: Context,
        demo: Any) -> None:
    a, b = two_servers
    # A staff session made on A works on B.
    jar: dict[str, str] = {}
    token = _token(a, "/masuk", jar)
    creds = demo["verifikator"]
    signed = httpx.post(a.base + "/masuk", headers=_header(jar), timeout=30, data={
        "csrf_token": token, "username": "verifikator", "password": creds["password"],
        "totp": pyotp.TOTP(creds["totp_secret"]).now()})
    assert signed.status_code == 303 and signed.headers["location"].startswith("/staf")
    _cookies(signed, jar)
    on_b = httpx.get(b.base + "/staf/kasus", headers=_header(jar), timeout=30)
    assert on_b.status_code == 200 and "verifikator" in on_b.text.lower()
    assert httpx.get(b.base + "/staf/kasus", timeout=30).status_code in (302, 303, 401)

    # A report submitted on A is found on B, by its code, and listed for the staff on B.
    reporter: dict[str, str] = {}
    token = _token(a, "/lapor", reporter)
    sent = httpx.post(a.base + "/lapor", headers=_header(reporter), timeout=60, data={
        "csrf_token": token, "kind": "complaint", "title": "Lampu jalan mati",
        "what": "Lampu jalan di Jalan Merdeka mati sebulan.", "identity_mode": "anonymous"},
        files=[("files", ("", b"", "application/octet-stream"))])
    # Post/Redirect/Get: the receipt held on A is read on B (it lives sealed in the database).
    assert sent.status_code == 303, sent.text[:500]
    _cookies(sent, jar=reporter)
    receipt = httpx.get(b.base + sent.headers["location"], headers=_header(reporter), timeout=30)
    code = CODE_RE.search(receipt.text)
    assert code, receipt.text[:500]
    found = httpx.post(b.base + "/api/v1/status", json={"code": code.group(1)}, timeout=30)
    assert found.status_code == 200
    with ctx.db() as session:
        case = session.scalars(select(Case)).one()
        assert found.json()["case_number"] == case.case_number
        listed = httpx.get(b.base + "/staf/kasus", headers=_header(jar), timeout=30)
        assert case.case_number in listed.text
        # Staff-caused notices to every member of the verifier team: due at the next run.
        team = session.get(Unit, case.receiving_unit_id)
        assert team is not None
    with ctx.db.begin() as session:
        case = session.get(Case, case.id)
        assert case is not None
        for user in session.scalars(select(User).where(User.unit_id == team.id)):
            user.email = f"{user.username}@example.go.id"
        made = notices.notify_unit(session, ctx, case, team.id, "new_task", None)
    assert made >= 1
    with ctx.db() as session:
        mailable = session.scalars(select(Notice.id).join(User, User.id == Notice.user_id)
                                   .where(Notice.done_on.is_(None), Notice.batch_at.is_(None),
                                          User.email.contains("@"))).all()

    # The jobs on both servers at once: every notice is e-mailed exactly once.
    runs = [subprocess.Popen([sys.executable, "-m", "wbs", "jobs", "run"], cwd=REPO,
                             env=server_env(settings), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sorted(out.startswith(b"skipped=1") for out, _ in outputs) in ([False, False],
                                                                         [False, True])
    sent_counts = [int(m.group(1)) if (m := re.search(rb"emails_sent=(\d+)", out)) else 0
                   for out, _ in outputs]
    mails = sorted(settings.mail_dir.glob("*"))
    assert sum(sent_counts) == len(mails) == len(mailable) >= 1
    with ctx.db() as session:
        emailed = session.scalars(select(Notice.emailed_at).where(Notice.id.in_(mailable))).all()
    assert all(emailed)
