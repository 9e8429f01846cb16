"""Load and faults against a real `wbs serve --workers 2`: clients, staff, and the checks.

Clients submit reports (the JSON API, and the /lapor form with a photo attached) from threads;
staff read and answer acknowledged cases through the service layer while the server's own jobs
run. Afterwards `check` proves every acknowledged submission was stored whole, opens for its
unit and for its reporter, and is in the audit log (or staged for the day's batch), which
verifies. The numbers are kept in `Figures` so the runs can report them.
"""

from __future__ import annotations

import io
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import func, select

from tests.live_server import free_port, server_env
from wbs import accounts, audit
from wbs.accounts import StaffIdentity
from wbs.cases import reporter, sealing, service
from wbs.context import Context
from wbs.models import AuditEntry, Case, CaseKeyWrap, PendingAuditEntry
from wbs.settings import RATE_CATEGORIES, Settings

# Case numbers: WBS-<year>-XXXX-XXXX (random, hardening finding 10); older cases keep
# WBS-<year>-<six digits>.
NUMBER_RE = re.compile(r"WBS-\d{4}-(?:[0-9A-Z]{4}-[0-9A-Z]{4}|\d{6})\b")
CODE_RE = re.compile(r"\b([0-9A-Z]{4}(?:-[0-9A-Z]{4}){5})\b")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SOAK = os.environ.get("WBS_SOAK") == "1"
CLIENTS = 8 if SOAK else 4
PER_CLIENT = 40 if SOAK else 5
# The load must meet the server, not the anti-abuse limits (they have their own tests).
UNLIMITED = {
    "WBS_RATE_LIMITS": ",".join(f"{c}=1000000/1s" for c in RATE_CATEGORIES),
    "WBS_RATE_CEILINGS": ",".join(f"{c}=1000000" for c in RATE_CATEGORIES),
}
WHOLE_WRAPS = {("content", "unit"), ("content", "reporter"), ("identity", "unit"),
               ("identity", "reporter")}


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Ack:
    case_number: str
    code: str
    title: str
    kind: str


@dataclass
class Figures:
    attempted: int = 0
    acknowledged: int = 0
    refused: dict[int, int] = field(default_factory=dict)  # status -> count (429/503 only)
    unreachable: int = 0  # the connection failed or dropped: no answer, no acknowledgment
    stored: int = 0
    decryptable_unit: int = 0
    decryptable_reporter: int = 0
    audited: int = 0
    staff_acts: int = 0

    def line(self, name: str) -> str:
        return (f"{name}: attempted={self.attempted} acknowledged={self.acknowledged} "
                f"stored={self.stored} decryptable(unit)={self.decryptable_unit} "
                f"decryptable(reporter)={self.decryptable_reporter} audited={self.audited} "
                f"refused={dict(sorted(self.refused.items()))} unreachable={self.unreachable} "
                f"staff_acts={self.staff_acts}")


class Server:
    """`wbs serve --workers 2 --jobs-every 1` in its own process group, so it can be killed
    whole (SIGKILL to the group) the way a crash or the OOM killer would."""

    def __init__(self, settings: Settings, tmp: Path, **env: str) -> None:
        self.settings, self.tmp, self.env = settings, tmp, {**UNLIMITED, **env}
        self.process: subprocess.Popen[bytes] | None = None
        self.base = ""
        # Set while the server answers: clients wait through a restart as a reporter's
        # browser would keep trying, instead of spending their submissions on a dead port.
        self.up = threading.Event()

    def start(self) -> None:
        port = free_port()
        log = (self.tmp / f"server-{port}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wbs", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "2", "--jobs-every", "1"],
            env=server_env(self.settings, **self.env), stdout=log, stderr=subprocess.STDOUT,
            cwd=self.tmp, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.name}")
            time.sleep(0.2)
        self.base = base
        self.up.set()

    def kill(self) -> None:
        assert self.process is not None
        self.up.clear()
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:]
                         for p in sorted(self.tmp.glob("server-*.log")))


class Load:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.figures = Figures()
        self.acks: list[Ack] = []
        self.bad: list[str] = []  # answers that were neither success nor a clear 429/503
        self.lock = threading.Lock()
        self.image = photo()

    def _answer(self, response: httpx.Response) -> None:
        status = response.status_code
        if status in (429, 503) and response.headers.get("retry-after", "").isdigit():
            with self.lock:
                self.figures.refused[status] = self.figures.refused.get(status, 0) + 1
        else:
            with self.lock:
                self.bad.append(f"{status} {response.text[:200]!r}")

    def _submit_api(self, base: str, title: str, kind: str) -> Ack | None:
        r = httpx.post(base + "/api/v1/reports", timeout=60, json={
            "kind": kind, "title": title, "what": f"Uraian {title}.", "where": "Kantor"})
        if r.status_code == 201:
            body = r.json()
            return Ack(body["case_number"], body["code"], title, kind)
        self._answer(r)
        return None

    def _submit_form(self, base: str, title: str, kind: str) -> Ack | None:
        page = httpx.get(base + "/lapor", timeout=60)
        if page.status_code != 200:
            self._answer(page)
            return None
        token = CSRF_RE.search(page.text)
        assert token, page.text[:300]
        cookie = "; ".join(f"{k}={v}" for k, v in page.cookies.items())
        r = httpx.post(base + "/lapor", headers={"Cookie": cookie}, timeout=120, data={
            "csrf_token": token.group(1), "kind": kind, "title": title,
            "what": f"Uraian {title}.", "identity_mode": "anonymous"},
            files=[("files", ("bukti.png", self.image, "image/png"))])
        if r.status_code == 303:
            # Post/redirect/get: the receipt page reads what the redirect's cookies carry.
            # httpx keeps Secure cookies off plain HTTP, so they are carried by hand.
            jar = dict(page.cookies.items())
            for header in r.headers.get_list("set-cookie"):
                name, _, rest = header.partition("=")
                jar[name] = rest.split(";", 1)[0]
            r = httpx.get(base + r.headers["location"], timeout=60, headers={
                "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
        if r.status_code == 200 and (code := CODE_RE.search(r.text)):
            number = NUMBER_RE.search(r.text)
            assert number, r.text[:500]
            return Ack(number.group(0), code.group(1), title, kind)
        self._answer(r)
        return None

    def client(self, index: int, per_client: int) -> None:
        try:
            self._client(index, per_client)
        except Exception as exc:  # noqa: BLE001 (a client that dies is a failure, not silence)
            with self.lock:
                self.bad.append(f"client {index} stopped: {exc!r}"[:300])

    def _client(self, index: int, per_client: int) -> None:
        for i in range(per_client):
            title = f"Laporan {index}-{i}"
            kind = "whistleblowing" if i % 3 == 2 else "complaint"
            submit = self._submit_form if i % 2 else self._submit_api
            self.server.up.wait(120)
            with self.lock:
                self.figures.attempted += 1
            try:
                ack = submit(self.server.base, title, kind)
            except httpx.TransportError:
                # Killed or cut mid-request: no answer means no acknowledgment; go on.
                with self.lock:
                    self.figures.unreachable += 1
                time.sleep(0.3)
                continue
            if ack is not None:
                with self.lock:
                    self.acks.append(ack)
                    self.figures.acknowledged += 1

    def run(self, during: Callable[[], None] | None = None, clients: int = CLIENTS,
            per_client: int = PER_CLIENT, staff: Callable[[threading.Event], None] | None = None,
            ) -> None:
        threads = [threading.Thread(target=self.client, args=(n, per_client))
                   for n in range(clients)]
        stop = threading.Event()
        helpers = [threading.Thread(target=staff, args=(stop,))] if staff else []
        for t in threads + helpers:
            t.start()
        if during is not None:
            during()
        for t in threads:
            t.join()
        stop.set()
        for t in helpers:
            t.join()


def staff_loop(ctx: Context, verifier: StaffIdentity, load: Load) -> Callable[[threading.Event],
                                                                             None]:
    """The verifier reads and answers acknowledged complaints while the load runs."""

    def loop(stop: threading.Event) -> None:
        rng = random.Random(14)
        seen: set[str] = set()
        while not stop.wait(0.2):
            with load.lock:
                fresh = [a for a in load.acks if a.kind == "complaint"
                         and a.case_number not in seen]
            if not fresh:
                continue
            ack = rng.choice(fresh)
            try:
                service.state_purpose(ctx, verifier, ack.case_number, "Verifikasi laporan")
                view = service.view_case(ctx, verifier, ack.case_number)
                assert view.report["title"] == ack.title
                service.post_staff_message(ctx, verifier, ack.case_number, "Mohon bukti.")
            except Exception as exc:
                if "Unavailable" not in type(exc).__name__ and "Operational" not in \
                        type(exc).__name__:
                    raise
                continue
            seen.add(ack.case_number)
            with load.lock:
                load.figures.staff_acts += 1

    return loop


def check(ctx: Context, load: Load, unit_staff: dict[str, StaffIdentity]) -> Figures:
    """Everything acknowledged is stored, whole, opens for unit and reporter, and is audited."""
    f = load.figures
    assert not load.bad, load.bad[:5]
    numbers = [a.case_number for a in load.acks]
    assert len(set(numbers)) == len(numbers), "two acknowledgments name one case"
    with ctx.db() as session:
        cases = {c.case_number: c for c in session.scalars(select(Case))}
        f.stored = sum(n in cases for n in numbers)
        # No half-written case: every stored case (acknowledged or not) has all four wraps
        # and its submission in the audit log or staged for it.
        wraps = session.execute(select(CaseKeyWrap.case_id, CaseKeyWrap.purpose,
                                       CaseKeyWrap.recipient_kind)).all()
        by_case: dict[int, set[tuple[str, str]]] = {}
        for case_id, purpose, kind in wraps:
            by_case.setdefault(case_id, set()).add((purpose, kind))
        logged = session.scalars(select(AuditEntry.case_number).where(
            AuditEntry.action == "case.submit")).all()
        staged = session.scalars(select(PendingAuditEntry.case_number).where(
            PendingAuditEntry.action == "case.submit")).all()
        submitted = list(logged) + list(staged)
        for number, case in cases.items():
            assert by_case.get(case.id, set()) >= WHOLE_WRAPS, f"{number} lacks key wraps"
            assert submitted.count(number) == 1, f"{number} audited {submitted.count(number)}x"
        f.audited = sum(submitted.count(n) == 1 for n in numbers)
        for ack in load.acks:
            case = cases[ack.case_number]
            access = reporter.access_by_code(ctx, ack.code)
            assert access is not None and access.case_number == ack.case_number
            # The report is sealed at the case's first key epoch (issue 13's re-keying).
            mine = reporter.reporter_keys(session, case, access)
            doc = sealing.open_json(mine[0], case, "report", case.report_sealed)
            f.decryptable_reporter += doc["title"] == ack.title
            staff = unit_staff[ack.kind]
            key = service.content_keys(session, case, staff)[0]
            doc = sealing.open_json(key, case, "report", case.report_sealed)
            f.decryptable_unit += doc["title"] == ack.title
        assert session.scalar(select(func.count()).select_from(Case)) == len(cases)
    with ctx.db() as session:
        result = audit.verify_log(session, ctx.audit_keys.public, ctx.audit_keys.origin,
                                  ctx.audit_keys.key_name)
    assert result.ok, result.problem
    assert f.acknowledged == len(load.acks) == f.stored == f.decryptable_unit \
        == f.decryptable_reporter == f.audited
    return f


def sign_in(ctx: Context, demo: dict[str, dict[str, str]], username: str, totp: str) -> Any:
    result = accounts.sign_in(ctx, username, demo[username]["password"], totp, "reliability")
    identity = accounts.load_session(ctx, result.token)
    assert identity is not None
    return identity
