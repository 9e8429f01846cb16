"""Issue 8, finding 13: bad input gave 500s, and invisible control characters survived.

Found: 500s from deeply nested JSON, a lone surrogate in a message, year 9999 in the audit and
activity filters, a NUL byte on PostgreSQL (at sign-in: unthrottled and unaudited) and a
non-ASCII `csrf_token` on every form; bidi and format controls survived into messages, staff
reasons, the audit page and the CSV; the `Host` header was copied into the `/static` redirect.
Now every bad input is a clear 4xx, text is cleaned by one layer as it comes in (NUL and lone
surrogates refused, bidi and other invisible controls removed), displayed text neutralises any
control character already stored, and only allowed hosts are served.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from wbs import audit
from wbs.cases import intake
from wbs.context import Context
from wbs.enums import AuditOutcome, Channel, ReportKind
from wbs.models import AuditEntry, Conflict

BIDI = "\u202e\u2066\u200f\u061c\ufeff\u200b"
CODE_RE = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){5}")


@pytest.fixture
def loose(app: Any) -> Any:
    """A client that shows a 500 as a response (as a browser would see it)."""
    with TestClient(app, base_url="https://testserver", follow_redirects=False,
                    raise_server_exceptions=False) as c:
        yield c


def _denied_sign_ins(ctx: Context) -> int:
    with ctx.db() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "auth.sign_in", AuditEntry.outcome == "denied")) or 0)


def _api_report(client: TestClient) -> dict[str, Any]:
    made = client.post("/api/v1/reports", json={
        "kind": "complaint", "title": "Pungli di loket", "what": "Petugas meminta uang."})
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def _raw_json(client: TestClient, path: str, text: str) -> Any:
    return client.post(path, content=text.encode(), headers={"content-type": "application/json"})


# --- JSON -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/status", "/api/v1/mailbox",
                                  "/api/v1/mailbox/messages", "/api/v1/receipts/verify",
                                  "/api/v1/mailbox/code"])
def test_finding_13_deeply_nested_json_is_a_400(loose: TestClient, path: str) -> None:
    for depth in (40, 100_000):
        answer = _raw_json(loose, path, '{"code": ' + "[" * depth + "]" * depth + "}")
        assert answer.status_code == 400, (path, depth, answer.status_code)
        assert answer.json()["error"] == "bad_request"


def test_finding_13_a_lone_surrogate_is_a_400_not_a_500(loose: TestClient, demo: Any) -> None:
    code = _api_report(loose)["code"]
    for path, document in [
        ("/api/v1/mailbox/messages", f'{{"code": "{code}", "body": "halo \\ud800"}}'),
        ("/api/v1/reports", '{"kind": "complaint", "title": "x\\udfff", "what": "isi"}'),
        ("/api/v1/status", '{"code": "\\ud800"}'),
        ("/api/v1/mailbox/identity", f'{{"code": "{code}", "identity": {{"name": "\\ud83d"}}}}'),
    ]:
        answer = _raw_json(loose, path, document)
        assert answer.status_code == 400, (path, answer.status_code, answer.text[:200])


# --- filters --------------------------------------------------------------------------------

def test_finding_13_far_years_in_the_audit_and_activity_filters(
        loose: TestClient, app: Any, demo: Any, clock: Clock) -> None:
    sign_in(loose, demo["auditor"], "auditor", clock)
    for query in ("to=9999-12-31", "from=9999-12-31", "from=0001-01-01&to=0001-01-01"):
        assert loose.get(f"/staf/audit?{query}").status_code == 400, query
        assert loose.get(f"/api/v1/audit/entries?{query}").status_code == 400, query
        assert loose.get(f"/staf/audit/ekspor.csv?{query}").status_code == 400, query
    boss = TestClient(app, base_url="https://testserver", follow_redirects=False,
                      raise_server_exceptions=False)
    sign_in(boss, demo["pimpinan"], "pimpinan", clock)
    for query in ("to=9999-12-31", "from=9999-12-31", "to=0001-01-01", "from=0001-01-01"):
        answer = boss.get(f"/staf/aktivitas?{query}")
        assert answer.status_code == 400, (query, answer.status_code)


# --- NUL bytes --------------------------------------------------------------------------------

def test_finding_13_a_nul_at_sign_in_is_throttled_and_audited(
        loose: TestClient, ctx: Context, demo: Any, clock: Clock) -> None:
    token = csrf_from(loose, "/masuk")
    before = _denied_sign_ins(ctx)
    answers = []
    for _ in range(12):
        answers.append(loose.post("/masuk", data={
            "csrf_token": token, "username": "verifi\x00kator", "password": "x\x00y",
            "totp": "000000"}).status_code)
    # Ten failures of one name from one client (accounts.PAIR_LIMIT), then the throttle.
    assert answers[:10] == [401] * 10 and set(answers[10:]) == {429}, answers
    assert _denied_sign_ins(ctx) == before + 10
    with ctx.db() as s:
        assert not any("\x00" in (e.actor + e.details) for e in s.scalars(select(AuditEntry)))


def test_finding_13_nul_in_a_url_is_a_400(loose: TestClient, demo: Any, clock: Clock) -> None:
    sign_in(loose, demo["verifikator"], "verifikator", clock)
    for path in ("/staf/kasus/WBS-2026-%00", "/staf/kasus?mirip=%00", "/staf/kasus?status=%00",
                 "/status?x=%00", "/staf/kasus/a%01b"):
        assert loose.get(path).status_code == 400, path


# --- CSRF token and Host ----------------------------------------------------------------------

def test_finding_13_a_non_ascii_csrf_token_is_a_403(loose: TestClient, demo: Any,
                                                   clock: Clock) -> None:
    csrf_from(loose, "/masuk")  # the cookie
    for path in ("/bahasa", "/status", "/masuk", "/verifikasi", "/kotak-pesan/masuk"):
        answer = loose.post(path, data={"csrf_token": "é" * 43, "code": "x"})
        assert answer.status_code == 403, (path, answer.status_code)
    answer = loose.post("/lapor", data={"csrf_token": "é" * 43}, files=[("files", ("", b"", ""))])
    assert answer.status_code == 403


def test_finding_13_only_allowed_hosts_are_served(loose: TestClient) -> None:
    evil = loose.get("/static", headers={"host": "evil.example"})
    assert evil.status_code == 400
    assert "evil.example" not in evil.headers.get("location", "")
    assert loose.get("/", headers={"host": "evil.example"}).status_code == 400
    # The configured host is served, and its redirect stays on it.
    ok = loose.get("/static")
    assert ok.status_code in (200, 301, 307, 404)
    assert "evil" not in ok.headers.get("location", "")


def test_finding_13_allowed_hosts_come_from_the_settings() -> None:
    from wbs.settings import Settings

    dev = Settings.from_env({"WBS_ENV": "development"})
    assert {"127.0.0.1", "localhost"} <= set(dev.hosts)
    prod = Settings.from_env({"WBS_BASE_URL": "https://wbs.contoh.go.id"})
    assert prod.hosts == ("wbs.contoh.go.id",)
    pinned = Settings.from_env({"WBS_BASE_URL": "https://wbs.contoh.go.id",
                                "WBS_ALLOWED_HOSTS": "wbs.contoh.go.id, lapor.contoh.go.id"})
    assert pinned.hosts == ("wbs.contoh.go.id", "lapor.contoh.go.id")
    onion = "a" * 56 + ".onion"  # Tor Browser sends the onion address as the Host
    hidden = Settings.from_env({"WBS_BASE_URL": "https://wbs.contoh.go.id",
                                "WBS_ONION_ADDRESS": onion})
    assert hidden.hosts == ("wbs.contoh.go.id", onion)


# --- invisible controls -----------------------------------------------------------------------

def test_finding_13_bidi_controls_do_not_reach_messages_reasons_or_the_audit(
        client: TestClient, app: Any, ctx: Context, demo: Any, clock: Clock) -> None:
    reporter = TestClient(app, base_url="https://testserver", follow_redirects=False)
    made = _api_report(reporter)
    sent = reporter.post("/api/v1/mailbox/messages", json={
        "code": made["code"], "body": f"Tolong{BIDI} periksa\x07 lagi"})
    assert sent.status_code == 201
    box = reporter.post("/api/v1/mailbox", json={"code": made["code"]}).json()
    assert [m["body"] for m in box["messages"]] == ["Tolong periksa lagi"]

    sign_in(client, demo["verifikator"], "verifikator", clock)
    token = csrf_from(client, "/staf/kata-sandi")
    number = made["case_number"]
    assert client.post(f"/staf/kasus/{number}/konflik", data={
        "csrf_token": token, "reason": f"Saudara{BIDI} kandung"}).status_code == 303
    with ctx.db() as s:
        assert s.scalars(select(Conflict.reason)).one() == "Saudara kandung"
        assert not any(set(BIDI) & set(e.reason or "") for e in s.scalars(select(AuditEntry)))


def test_finding_13_controls_already_stored_are_neutralised_when_shown(
        client: TestClient, ctx: Context, demo: Any, clock: Clock) -> None:
    # A reason written before this fix (or by a path that bypassed the input layer).
    with ctx.db.begin() as s:
        audit.record(s, ctx.audit_keys, actor="lama", role="verifier", action="case.archive",
                     case_number="WBS-2025-000001", outcome=AuditOutcome.ALLOWED,
                     reason=f"alasan{BIDI}\x1b[31m merah", now=ctx.now())
    sign_in(client, demo["auditor"], "auditor", clock)
    page = client.get("/staf/audit")
    csv = client.get("/staf/audit/ekspor.csv")
    api = client.get("/api/v1/audit/entries")
    assert page.status_code == csv.status_code == api.status_code == 200
    for text in (page.text, csv.text.removeprefix("\ufeff")):  # the CSV's BOM is for Excel
        assert "alasan" in text
        assert not set(BIDI + "\x1b") & set(text), repr(
            [c for c in text if c in BIDI + "\x1b"])
    # The auditor's API hands the stored text over exactly (it is data, and the entry's hash
    # covers it); whoever displays it neutralises it, as the page does.
    assert any(e["reason"] == f"alasan{BIDI}\x1b[31m merah" for e in api.json()["entries"])


def test_finding_13_no_staff_page_echoes_galat(client: TestClient, ctx: Context, demo: Any,
                                               clock: Clock) -> None:
    number = intake.submit(ctx, intake.ReportInput(kind=ReportKind.COMPLAINT, title="t",
                                                   what="w"), [], Channel.WEB).case_number
    canary = "KANARI-galat-7f3a"
    for user, paths in {
        "verifikator": ["/staf", f"/staf/kasus/{number}", "/staf/kasus"],
        "pimpinan": ["/staf/sengketa"],
        "admin": ["/staf/kalender", "/staf/pengaturan"],
    }.items():
        sign_in(client, demo[user], user, clock)
        if user == "verifikator":
            token = csrf_from(client, f"/staf/kasus/{number}")
            client.post(f"/staf/kasus/{number}/tujuan",
                        data={"csrf_token": token, "purpose": "Verifikasi"})
        for path in paths:
            sep = "&" if "?" in path else "?"
            page = client.get(f"{path}{sep}galat={canary}&ok={canary}")
            assert page.status_code == 200, path
            assert canary not in page.text, path
        client.cookies.clear()


# --- every field, every route -----------------------------------------------------------------

FORM_FIELDS = ["username", "password", "totp", "code", "lang", "next", "receipt", "title", "what",
               "reason", "text", "body", "purpose", "purpose_other", "target", "outcome",
               "current_password", "new_password", "confirm_password", "portal_name",
               "pemda_name", "date", "name", "decision", "classification", "resolution_days",
               "unit_1", "suggested_unit", "identity_name", "kind", "channel", "where", "when",
               "how", "who_name", "identity_mode", "reported_unit", "value", "key"]
BAD = {
    "nul": "%00",
    "surrogate": "%ED%A0%80",  # a UTF-16 surrogate encoded as UTF-8: not valid UTF-8
    "bidi": "%E2%80%AE%E2%81%A6",
    "control": "%1B%5B31m%07",
    "overlong": "A" * 60_000,
}
FORM_ROUTES = {
    None: ["/bahasa", "/status", "/kotak-pesan/masuk", "/verifikasi", "/masuk"],
    "verifikator": ["/staf/akses", "/staf/kata-sandi", "/staf/kasus/{n}/tujuan",
                    "/staf/kasus/{n}/pesan", "/staf/kasus/{n}/konflik",
                    "/staf/kasus/{n}/aksi/verify_and_dispose", "/staf/kasus/{n}/aksi/archive",
                    "/staf/kasus/{n}/aksi/request_info", "/staf/kasus/{n}/aksi/forward_external"],
    "admin": ["/staf/kalender", "/staf/pengaturan"],
    "inspektur": ["/staf/identitas/1"],
    "pimpinan": ["/staf/kasus/{n}/aksi/coordinator_close"],
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_finding_13_every_form_field_takes_bad_text_without_a_500(
        loose: TestClient, app: Any, ctx: Context, demo: Any, clock: Clock, kind: str) -> None:
    number = intake.submit(ctx, intake.ReportInput(kind=ReportKind.COMPLAINT, title="t",
                                                   what="w"), [], Channel.WEB).case_number
    failures = []
    for user, paths in FORM_ROUTES.items():
        browser = TestClient(app, base_url="https://testserver", follow_redirects=False,
                             raise_server_exceptions=False)
        if user is not None:
            sign_in(browser, demo[user], user, clock)
        token = csrf_from(browser, "/masuk")
        for path in paths:
            for name in FORM_FIELDS:
                body = f"csrf_token={token}&{name}=a{BAD[kind]}b"
                if name == "username":
                    body += "&password=x"
                answer = browser.post(path.format(n=number), content=body.encode(), headers={
                    "content-type": "application/x-www-form-urlencoded"})
                ok = answer.status_code < 500
                if kind == "nul" and path != "/masuk":
                    ok = answer.status_code in (400, 429)  # the reporter limits may come first
                if not ok:
                    failures.append((user, path, name, answer.status_code))
    assert failures == []


API_FIELDS = {
    "/api/v1/reports": {"kind": "complaint", "title": "judul", "what": "isi", "where": "",
                        "when": "", "how": "", "reported_unit": "", "who": {"name": ""},
                        "identity": {"name": "n", "phone": ""}},
    "/api/v1/status": {"code": "{code}"},
    "/api/v1/mailbox": {"code": "{code}"},
    "/api/v1/mailbox/messages": {"code": "{code}", "body": "pesan"},
    "/api/v1/mailbox/identity": {"code": "{code}", "identity": {"name": "n", "email": ""}},
    "/api/v1/receipts/verify": {"receipt": "r"},
    "/api/v1/mailbox/code": {"code": "{code}"},
}
API_BAD = {"nul": "\\u0000", "surrogate": "\\udc80", "bidi": "\\u202e\\u2066",
           "overlong": "A" * 100_000}


def _leaves(document: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for key, value in document.items():
        if isinstance(value, dict):
            found += _leaves(value, (*prefix, key))
        else:
            found.append((*prefix, key))
    return found


def _with(document: dict[str, Any], path: tuple[str, ...], raw: str, code: str) -> str:
    text = json.dumps(document).replace("{code}", code)
    copy = json.loads(text)
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "@@BAD@@"
    return json.dumps(copy).replace('"@@BAD@@"', f'"a{raw}b"')


@pytest.mark.parametrize("kind", sorted(API_BAD))
def test_finding_13_every_api_field_takes_bad_text_without_a_500(
        loose: TestClient, demo: Any, kind: str) -> None:
    code = _api_report(loose)["code"]
    failures = []
    for path, document in API_FIELDS.items():
        for leaf in _leaves(document):
            answer = _raw_json(loose, path, _with(document, leaf, API_BAD[kind], code))
            ok = answer.status_code < 500
            if kind in ("nul", "surrogate"):
                ok = answer.status_code == 400
            if not ok:
                failures.append((path, leaf, answer.status_code))
    assert failures == []



MULTIPART_FIELDS = ["title", "what", "where", "when", "how", "who_name", "identity_name",
                    "kind", "reported_unit", "channel"]


@pytest.mark.parametrize("kind", ["nul", "surrogate", "bidi"])
def test_finding_13_multipart_forms_take_bad_text_without_a_500(
        loose: TestClient, app: Any, ctx: Context, demo: Any, clock: Clock, kind: str) -> None:
    """The report form and the staff intake form: multipart, read by their own parser."""
    raw = {"nul": b"\x00", "surrogate": b"\xed\xa0\x80", "bidi": "\u202e".encode()}[kind]
    staff = TestClient(app, base_url="https://testserver", follow_redirects=False,
                       raise_server_exceptions=False)
    sign_in(staff, demo["verifikator"], "verifikator", clock)
    base = {"kind": "complaint", "title": "Jalan rusak", "what": "Jalan di depan pasar rusak.",
            "identity_mode": "anonymous", "channel": "letter"}
    failures = []
    for browser, path in ((loose, "/lapor"), (staff, "/staf/penerimaan")):
        token = csrf_from(browser, path)
        for name in MULTIPART_FIELDS:
            fields = [("csrf_token", token.encode())] + [
                (k, v.encode()) for k, v in base.items() if k != name]
            fields.append((name, b"a" + raw + b"b"))
            boundary = "grens7d1a"
            body = b"".join(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode()
                + v + b"\r\n" for k, v in fields) + f"--{boundary}--\r\n".encode()
            answer = browser.post(path, content=body, headers={
                "content-type": f"multipart/form-data; boundary={boundary}"})
            expected = {"nul": (400,), "surrogate": (400,), "bidi": (200, 303, 400)}[kind]
            if answer.status_code not in expected:
                failures.append((path, name, answer.status_code))
    assert failures == []
    with ctx.db() as s:
        reasons = [e.details for e in s.scalars(select(AuditEntry))]
    assert not any("\u202e" in d for d in reasons)


def test_finding_13_ids_past_the_integer_range_are_a_404(
        loose: TestClient, ctx: Context, demo: Any, clock: Clock) -> None:
    """Row ids are 32-bit on PostgreSQL: a larger number in a URL made the query fail."""
    number = intake.submit(ctx, intake.ReportInput(kind=ReportKind.COMPLAINT, title="t",
                                                   what="w"), [], Channel.WEB).case_number
    sign_in(loose, demo["verifikator"], "verifikator", clock)
    token = csrf_from(loose, f"/staf/kasus/{number}")
    loose.post(f"/staf/kasus/{number}/tujuan", data={"csrf_token": token, "purpose": "Cek"})
    for big in ("2147483648", "99999999999999999999", "9" * 400):
        assert loose.get(f"/staf/kasus/{number}/lampiran/{big}").status_code == 404, big
        assert loose.get(f"/kotak-pesan/lampiran/{big}").status_code in (303, 403, 404), big
    loose.cookies.clear()
    sign_in(loose, demo["inspektur"], "inspektur", clock)
    token = csrf_from(loose, "/staf/identitas")
    for big in ("2147483648", "9" * 400):
        answer = loose.post(f"/staf/identitas/{big}", data={
            "csrf_token": token, "decision": "approve", "reason": "Alasan yang cukup panjang"})
        assert 400 <= answer.status_code < 500, (big, answer.status_code)
