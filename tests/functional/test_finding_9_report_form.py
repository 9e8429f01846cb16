"""Issue 9 over HTTP: the report form and its receipt (blocker 2, items 3, 4, 6 and 8).

Blocker 2: the receipt was the answer to the POST, so a reload filed the report again. Now the
POST redirects to a receipt page (Post/Redirect/Get) that reads a receipt held sealed for the
sending browser, a form sent twice files one case, and the code never sits in the database or a
URL in clear.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from wbs.cases import receipt_hold
from wbs.models import Case, Deadline, ReceiptHold

CODE_RE = re.compile(r'class="code-box"[^>]*>([0-9A-Z-]{29})<')
NONCE_RE = re.compile(r'name="nonce" value="([A-Za-z0-9_-]+)"')
BASIC = {"kind": "whistleblowing", "title": "Pungli izin", "what": "Petugas meminta uang.",
         "identity_mode": "anonymous"}
NO_FILE = [("files", ("", b"", "x/y"))]


def _cases(ctx: Any) -> int:
    with ctx.db() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def _form(client: TestClient) -> tuple[str, str]:
    page = client.get("/lapor").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    nonce = NONCE_RE.search(page)
    assert token and nonce
    return token.group(1), nonce.group(1)


def _post(client: TestClient, token: str, nonce: str, fields: dict[str, str] | None = None,
          files: list[Any] | None = None) -> Any:
    data = {"csrf_token": token, "nonce": nonce, **(BASIC if fields is None else fields)}
    return client.post("/lapor", data=data, files=files or NO_FILE)


def _code(page: str) -> str:
    found = CODE_RE.search(page)
    assert found, page[:500]
    return found.group(1)


def test_finding_9_2_the_receipt_is_a_page_of_its_own(client: TestClient, demo: Any,
                                                       ctx: Any) -> None:
    token, nonce = _form(client)
    sent = _post(client, token, nonce)
    assert sent.status_code == 303 and sent.headers["location"] == "/lapor/tanda-terima"
    assert "code-box" not in sent.text
    first = client.get("/lapor/tanda-terima")
    code = _code(first.text)
    assert code not in str(first.url) and nonce not in str(first.url)
    # A reload reads the same receipt and files nothing.
    assert _code(client.get("/lapor/tanda-terima").text) == code
    assert _cases(ctx) == 1
    # The language switch comes back to the receipt, in the other language.
    switched = client.post("/bahasa", data={"csrf_token": token, "lang": "en",
                                            "next": "/lapor/tanda-terima"})
    assert switched.headers["location"] == "/lapor/tanda-terima"
    english = client.get("/lapor/tanda-terima")
    assert _code(english.text) == code and "Your secret code" in english.text
    assert _cases(ctx) == 1


def test_finding_9_2_the_same_form_sent_again_files_nothing(client: TestClient, demo: Any,
                                                             ctx: Any) -> None:
    token, nonce = _form(client)
    code = _code(client.get(_post(client, token, nonce).headers["location"]).text)
    again = _post(client, token, nonce)  # Back and send, or a double tap
    assert again.status_code == 303
    assert _code(client.get("/lapor/tanda-terima").text) == code
    assert _cases(ctx) == 1
    # A new form gets a new nonce, and files a new case.
    token, other = _form(client)
    assert other != nonce
    _post(client, token, other)
    assert _cases(ctx) == 2 and _code(client.get("/lapor/tanda-terima").text) != code


def test_finding_9_2_another_browser_with_the_nonce_sees_no_code(app: Any, client: TestClient,
                                                                 demo: Any, ctx: Any) -> None:
    token, nonce = _form(client)
    code = _code(client.get(_post(client, token, nonce).headers["location"]).text)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as stranger:
        their_token, _ = _form(stranger)
        replay = _post(stranger, their_token, nonce)
        assert replay.status_code == 409
        assert code not in replay.text
        assert "Laporan ini sudah dikirim" in replay.text  # told, in the default language
        # Nor with the receipt cookie copied: the browser's secret is missing.
        stranger.cookies.set("__Host-wbs-tt", nonce, domain="testserver.local")
        assert code not in stranger.get("/lapor/tanda-terima").text
    assert _cases(ctx) == 1


def test_finding_9_2_the_code_is_not_in_the_database_in_clear(client: TestClient, demo: Any,
                                                              ctx: Any, settings: Any) -> None:
    token, nonce = _form(client)
    code = _code(client.get(_post(client, token, nonce).headers["location"]).text)
    raw = code.replace("-", "")
    with ctx.db() as session:
        holds = session.scalars(select(ReceiptHold)).all()
        assert len(holds) == 1 and holds[0].sealed
        for row in holds:
            blob = row.lookup + (row.sealed or b"")
            assert code.encode() not in blob and raw.encode() not in blob
            assert nonce.encode() not in blob
    if settings.database_url.startswith("sqlite"):
        for path in settings.data_dir.glob("wbs.sqlite3*"):
            data = path.read_bytes()
            assert code.encode() not in data and raw.encode() not in data
            assert raw.lower().encode() not in data


def test_finding_9_2_the_receipt_expires_and_can_be_closed(client: TestClient, demo: Any,
                                                            ctx: Any, clock: Any) -> None:
    token, nonce = _form(client)
    code = _code(client.get(_post(client, token, nonce).headers["location"]).text)
    clock.advance(minutes=receipt_hold.HOLD_MINUTES + 1)
    gone = client.get("/lapor/tanda-terima")
    assert gone.status_code == 404 and code not in gone.text
    # Sent again after the receipt expired: still recognised the same day, still one case.
    assert _post(client, token, nonce).status_code == 409
    assert _cases(ctx) == 1
    with ctx.db() as session:  # no time of day in clear: the hold keeps a day only
        columns = set(ReceiptHold.__table__.columns.keys())
        assert columns == {"lookup", "sealed", "forget_on"}
        days = {h.forget_on for h in session.scalars(select(ReceiptHold))}
        assert days == {ctx.today() + timedelta(days=1)}
    # Closing a receipt wipes it at once.
    token, nonce = _form(client)
    _post(client, token, nonce)
    assert _code(client.get("/lapor/tanda-terima").text)
    done = client.post("/lapor/tanda-terima/selesai", data={"csrf_token": token})
    assert done.status_code == 303
    assert client.get("/lapor/tanda-terima").status_code == 404
    # The day after, the row itself is gone.
    clock.advance(days=1)
    from wbs import jobs
    assert jobs.run_all(ctx)["receipt_holds_purged"] == 0
    clock.advance(days=1)
    assert jobs.run_all(ctx)["receipt_holds_purged"] == 2
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(ReceiptHold)) == 0


def test_finding_9_3_identity_typed_under_anonymous_is_not_dropped(client: TestClient,
                                                                   demo: Any, ctx: Any) -> None:
    token, nonce = _form(client)
    page = _post(client, token, nonce, {**BASIC, "identity_name": "Siti Aminah"})
    assert page.status_code == 400
    assert 'value="Siti Aminah"' in page.text  # kept, and the reporter is asked
    assert 'href="#mode-anon"' in page.text and "identity_mode-error" in page.text
    assert _cases(ctx) == 0
    # Chosen confidentially, it is sealed with the case.
    sent = _post(client, token, nonce, {**BASIC, "identity_mode": "confidential",
                                        "identity_name": "Siti Aminah"})
    assert sent.status_code == 303
    with ctx.db() as session:
        case = session.scalars(select(Case)).one()
        assert case.identity_provided and case.identity_sealed
        assert b"Siti Aminah" not in case.identity_sealed


def test_finding_9_3_identity_fields_sit_in_their_own_step(client: TestClient) -> None:
    page = client.get("/lapor").text
    step = page.index('class="identity-fields"')
    assert page.index('id="mode-conf"') < step < page.index('id="identity_name"')


def test_finding_9_4_kinds_say_who_reads_them_whistleblowing_first(client: TestClient) -> None:
    for lang, reader in (("en", "Read only by the Inspectorate (APIP)"),
                         ("id", "Hanya dibaca oleh Inspektorat (APIP)")):
        page = client.get("/lapor", headers={"Accept-Language": lang}).text
        kinds = re.findall(r'id="kind-([a-z_]+)" name="kind"', page)
        assert kinds[0] == "whistleblowing" and "complaint" in kinds
        for kind in kinds:
            assert f'aria-describedby="kind-{kind}-hint"' in page
            assert f'id="kind-{kind}-hint"' in page
        assert reader in page


def test_finding_9_6_error_summary_links_each_field_and_names_files(client: TestClient,
                                                                     demo: Any) -> None:
    token, nonce = _form(client)
    page = _post(client, token, nonce, {"kind": "", "title": "", "what": "",
                                        "identity_mode": "confidential"},
                 files=[("files", ("bukti-kuitansi.pdf", b"%PDF-1.4 not really", "text/plain"))])
    assert page.status_code == 400
    start = page.text.index("error-summary")
    summary = page.text[start:page.text.index('action="/lapor"')]
    for anchor in ("#kind-whistleblowing", "#title", "#what", "#identity_name"):
        assert f'href="{anchor}"' in summary
    assert "bukti-kuitansi.pdf" in summary  # which file to attach again
    assert start < page.text.index('id="before-title"')  # at the top, before the help
    assert NONCE_RE.search(page.text).group(1) == nonce  # type: ignore[union-attr]


def test_finding_9_8_receipt_advice_date_address_qr_and_pemda(client: TestClient, demo: Any,
                                                              ctx: Any) -> None:
    token, nonce = _form(client)
    _post(client, token, nonce)
    page = client.get("/lapor/tanda-terima", headers={"Accept-Language": "en"}).text
    with ctx.db() as session:
        case = session.scalars(select(Case)).one()
        due = session.scalars(select(Deadline).where(Deadline.case_id == case.id,
                                                     Deadline.kind == "verification")).one()
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title and case.case_number not in title.group(1)
    assert case.case_number in page
    assert due.due_on.strftime("%-d %B %Y") in page  # "come back after", by the rule in force
    assert "https://wbs.test" in page  # the portal address, on screen and on paper
    assert "screenshot" in page and "office printer" in page and "office e-mail" in page
    assert len(re.findall(r'<svg[^>]*class="qr"', page)) == 1 and "<script" not in page
    assert ctx.settings.pemda_name in page
    assert 'aria-label="Your secret code"' not in page


API_REPORT = {"kind": "complaint", "title": "Izin lambat", "what": "Sudah tiga bulan."}


def test_finding_9_2_api_retry_with_the_same_idempotency_key_files_once(
        client: TestClient, demo: Any, ctx: Any, clock: Any) -> None:
    key = "0b9f8a3e-1c2d-4e5f-8a7b-6c5d4e3f2a1b"
    first = client.post("/api/v1/reports", json=API_REPORT, headers={"Idempotency-Key": key})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    retry = client.post("/api/v1/reports", json=API_REPORT, headers={"Idempotency-Key": key})
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert _cases(ctx) == 1
    # The same key with another report is refused, and files nothing.
    other = client.post("/api/v1/reports", json={**API_REPORT, "title": "Lain"},
                        headers={"Idempotency-Key": key})
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    assert first.json()["code"] not in other.text
    # Once the answer has expired: still one case, and the code is not handed out again.
    clock.advance(minutes=receipt_hold.HOLD_MINUTES + 1)
    late = client.post("/api/v1/reports", json=API_REPORT, headers={"Idempotency-Key": key})
    assert late.status_code == 409 and first.json()["code"] not in late.text
    assert _cases(ctx) == 1
    # A guessable key is refused before anything is read; no key keeps the old behaviour.
    short = client.post("/api/v1/reports", json=API_REPORT, headers={"Idempotency-Key": "1"})
    assert short.status_code == 400 and short.json()["error"] == "invalid_idempotency_key"
    assert client.post("/api/v1/reports", json=API_REPORT).status_code == 201
    assert client.post("/api/v1/reports", json=API_REPORT).status_code == 201
    assert _cases(ctx) == 3


def test_finding_9_2_two_submissions_under_one_nonce_store_one_case(ctx: Any,
                                                                     demo: Any) -> None:
    """The hold is written in the report's transaction: a second report under the same nonce
    (two identical posts racing past the first check) fails as a whole."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from wbs.cases import intake
    from wbs.enums import Channel

    report = intake.parse_report(BASIC, [])
    nonce, secret = receipt_hold.new_token(), receipt_hold.new_token()

    def keep(session: Any, sub: intake.Submission) -> None:
        receipt_hold.hold(session, ctx, "form", nonce, secret, receipt_hold.HeldReceipt(
            case_number=sub.case_number, code=sub.code, receipt=sub.receipt,
            received_on=sub.received_on, first_response_on=sub.first_response_on))

    first = intake.submit(ctx, report, [], Channel.WEB, hold=keep)
    with pytest.raises(IntegrityError):
        intake.submit(ctx, report, [], Channel.WEB, hold=keep)
    assert _cases(ctx) == 1
    found = receipt_hold.find(ctx, "form", nonce, secret)
    assert found.receipt is not None and found.receipt.code == first.code


HELD_RE = re.compile(r'name="held_files" value="([A-Za-z0-9_-]+)"')


def test_finding_9_6_files_survive_an_error_sealed_and_once(app: Any, client: TestClient,
                                                             demo: Any, ctx: Any,
                                                             settings: Any) -> None:
    from wbs.models import Attachment, HeldUpload

    marker = b"KUITANSI-CANARY-" + b"7" * 64
    token, nonce = _form(client)
    first = _post(client, token, nonce, {**BASIC, "title": ""},
                  files=[("files", ("kuitansi.txt", marker, "text/plain"))])
    assert first.status_code == 400
    held = HELD_RE.search(first.text)
    assert held and "kuitansi.txt" in first.text
    for asked in ("please attach them again", "please attach these files again"):
        assert asked not in first.text.lower()  # kept, so not asked for again
    with ctx.db() as session:
        rows = session.scalars(select(HeldUpload)).all()
        assert len(rows) == 1 and marker not in rows[0].data_sealed
        assert b"kuitansi" not in rows[0].meta_sealed
    if settings.database_url.startswith("sqlite"):
        for path in settings.data_dir.glob("wbs.sqlite3*"):
            assert marker not in path.read_bytes()
    # Another browser with the token opens nothing (nor destroys it: review 9).
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as stranger:
        their_token, their_nonce = _form(stranger)
        stolen = stranger.post("/lapor", data={"csrf_token": their_token, "nonce": their_nonce,
                                               "held_files": held.group(1), **BASIC},
                               files=NO_FILE)
        assert stolen.status_code == 400 and "kuitansi.txt" not in stolen.text
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    # The reporter's own second post, after fixing the title: the file comes along.
    token, nonce = _form(client)
    again = _post(client, token, nonce, {**BASIC, "title": ""},
                  files=[("files", ("kuitansi.txt", marker, "text/plain"))])
    held = HELD_RE.search(again.text)
    assert held
    sent = client.post("/lapor", data={"csrf_token": token, "nonce": nonce,
                                       "held_files": held.group(1), **BASIC}, files=NO_FILE)
    assert sent.status_code == 303
    with ctx.db() as session:
        cases = session.scalars(select(Case).order_by(Case.id)).all()
        attached = session.scalars(select(Attachment).where(
            Attachment.case_id == cases[-1].id)).all()
        assert len(attached) == 1
        # Taken once; what is left is the first form's, which the stranger could not destroy.
        assert session.scalar(select(func.count()).select_from(HeldUpload)) == 1
    # The mailbox shows it under its name (opened with the code from the receipt).
    code = _code(client.get("/lapor/tanda-terima").text)
    opened = client.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": code},
                         follow_redirects=True)
    assert "kuitansi.txt" in opened.text


def test_finding_9_6_held_files_expire(client: TestClient, demo: Any, ctx: Any,
                                       clock: Any) -> None:
    from wbs.models import Attachment

    token, nonce = _form(client)
    first = _post(client, token, nonce, {**BASIC, "what": ""},
                  files=[("files", ("foto.txt", b"isi", "text/plain"))])
    held = HELD_RE.search(first.text)
    assert held
    clock.advance(minutes=receipt_hold.HOLD_MINUTES + 1)
    sent = client.post("/lapor", data={"csrf_token": token, "nonce": nonce,
                                       "held_files": held.group(1), **BASIC}, files=NO_FILE)
    # Not filed without them (review 9): the reporter is asked to attach them again.
    assert sent.status_code == 400 and "foto.txt" in sent.text and _cases(ctx) == 0
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
