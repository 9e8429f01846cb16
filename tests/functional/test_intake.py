"""Reporter intake through the web form: receipt, status, mailbox, validation."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import csrf_from
from wbs.models import Case

CODE_RE = re.compile(r'class="code-box"[^>]*>([0-9A-Z-]{29})<')
RECEIPT_RE = re.compile(r'<pre class="note">(WBS1\.[^<]+)</pre>')


def submit_form(client: TestClient, fields: dict[str, str],
                files: list[tuple[str, bytes, str]] | None = None) -> Any:
    token = csrf_from(client, "/lapor")
    data = {"csrf_token": token, **fields}
    # The token must precede the files: httpx sends data fields before files.
    multipart = [("files", (name, content, ctype)) for name, content, ctype in (files or [])]
    # Post/Redirect/Get: the receipt is the page the redirect leads to.
    return client.post("/lapor", data=data, files=multipart or [("files", ("", b"", "x/y"))],
                       follow_redirects=True)


BASIC = {"kind": "complaint", "title": "Jalan rusak", "what": "Jalan di depan pasar rusak.",
         "identity_mode": "anonymous"}


def test_submit_shows_code_and_receipt_then_status(client: TestClient, demo: Any,
                                                   ctx: Any) -> None:
    r = submit_form(client, BASIC)
    assert r.status_code == 200, r.text[:500]
    code = CODE_RE.search(r.text)
    receipt = RECEIPT_RE.search(r.text)
    assert code and receipt
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){5}[0-9A-HJKMNP-TV-Z]{4}", code.group(1))
    with ctx.db() as s:
        case = s.scalars(select(Case)).one()
    assert case.kind == "complaint" and case.state == "received" and not case.at_apip
    token = csrf_from(client, "/status")
    status = client.post("/status", data={"csrf_token": token,
                                          "code": code.group(1).lower().replace("-", " ")})
    assert status.status_code == 200
    assert case.case_number in status.text
    assert "Belum Terverifikasi" in status.text


def test_unknown_and_malformed_codes_answer_alike(client: TestClient, demo: Any) -> None:
    submit_form(client, BASIC)
    answers = []
    for code in ("0000-0000-0000-0000-0000-0000", "not a code", "X" * 5000):
        token = csrf_from(client, "/status")
        r = client.post("/status", data={"csrf_token": token, "code": code})
        answers.append((r.status_code, re.sub(r'value="[^"]*"', "", r.text)))
    assert len(set(answers)) == 1 and answers[0][0] == 404


def test_validation_keeps_what_was_typed(client: TestClient, demo: Any, ctx: Any) -> None:
    r = submit_form(client, {"kind": "complaint", "title": "", "what": "Isi laporan saya",
                             "who_name": "Pak Budi", "identity_mode": "confidential",
                             "identity_email": "bukan-email"})
    assert r.status_code == 400
    assert "Isi laporan saya" in r.text and 'value="Pak Budi"' in r.text
    assert "Kolom ini wajib diisi" in r.text  # title and identity name are required
    assert 'aria-invalid="true"' in r.text
    with ctx.db() as s:
        assert s.scalars(select(Case)).first() is None


def test_whistleblowing_goes_to_apip(client: TestClient, demo: Any, ctx: Any) -> None:
    from wbs.models import CaseKeyWrap, Unit

    submit_form(client, {**BASIC, "kind": "whistleblowing", "reported_unit": "dinas-pupr"})
    with ctx.db() as s:
        case = s.scalars(select(Case)).one()
        wraps = s.execute(select(CaseKeyWrap.purpose, CaseKeyWrap.recipient_kind, Unit.slug)
                          .outerjoin(Unit, Unit.id == CaseKeyWrap.recipient_id)
                          .where(CaseKeyWrap.case_id == case.id)).all()
    assert case.at_apip
    unit_wraps = {(p, slug) for p, kind, slug in wraps if kind == "unit"}
    assert unit_wraps == {("content", "inspektorat"), ("identity", "kustodian")}
    assert {(p, kind) for p, kind, _ in wraps if kind == "reporter"} == {
        ("content", "reporter"), ("identity", "reporter")}
