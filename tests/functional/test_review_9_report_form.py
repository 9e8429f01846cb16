"""Review of issue 9 (report form and receipt): what the first round left open.

- A reporter who goes Back to the sent form, changes it into a different report and sends it
  was shown the first report's receipt: the second report was silently never filed (the nonce
  said "already sent" whatever the form carried).
- "I have kept my code" wiped the held receipt for anyone who knew the form's nonce, without
  the browser's secret: a stranger with the nonce (a shared computer's cached form page) could
  make the reporter lose the receipt before they had copied the code.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.functional.test_finding_9_report_form import (  # the first round's helpers
    BASIC,
    CODE_RE,
    NO_FILE,
    NONCE_RE,
    _cases,
    _form,
)


def _post(client: TestClient, token: str, nonce: str, fields: dict[str, str]) -> Any:
    return client.post("/lapor", data={"csrf_token": token, "nonce": nonce, **fields},
                       files=NO_FILE)


def _code(page: str) -> str:
    found = CODE_RE.search(page)
    assert found, page[:500]
    return found.group(1)


def test_review_9_a_changed_form_sent_under_the_old_nonce_is_filed(client: TestClient,
                                                                   demo: Any, ctx: Any) -> None:
    token, nonce = _form(client)
    first = _code(client.get(_post(client, token, nonce, BASIC).headers["location"]).text)
    # Back to the form (its nonce is the old one), a second, different matter, send.
    other = {**BASIC, "title": "Mark-up pengadaan", "what": "Harga laptop dinaikkan."}
    sent = _post(client, token, nonce, other)
    assert sent.status_code == 303
    second = _code(client.get("/lapor/tanda-terima").text)
    assert second != first, "the second report was not filed: its reporter got the old code"
    assert _cases(ctx) == 2
    # ... and that one, sent again unchanged (a double tap), is still filed once.
    nonce2 = sent.headers["set-cookie"].split("__Host-wbs-tt=")[1].split(";")[0]
    assert _post(client, token, nonce2, other).status_code == 303
    assert _code(client.get("/lapor/tanda-terima").text) == second
    assert _cases(ctx) == 2


def test_review_9_a_stranger_with_the_nonce_cannot_wipe_the_receipt(
        app: Any, client: TestClient, demo: Any, ctx: Any) -> None:
    token, nonce = _form(client)
    code = _code(client.get(_post(client, token, nonce, BASIC).headers["location"]).text)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as stranger:
        their_token, _ = _form(stranger)
        stranger.cookies.set("__Host-wbs-tt", nonce, domain="testserver.local")
        stranger.post("/lapor/tanda-terima/selesai", data={"csrf_token": their_token})
    # The reporter, back at the receipt, still finds the code.
    assert _code(client.get("/lapor/tanda-terima").text) == code


def test_review_9_a_form_refused_as_already_sent_keeps_what_was_typed(
        client: TestClient, demo: Any, ctx: Any, clock: Any) -> None:
    from wbs.cases import receipt_hold

    token, nonce = _form(client)
    _code(client.get(_post(client, token, nonce, BASIC).headers["location"]).text)
    clock.advance(minutes=receipt_hold.HOLD_MINUTES + 1)
    # Back to the sent form after the receipt's time, a second matter typed, sent: refused as
    # already sent (the first receipt cannot be opened to compare), but nothing typed is lost.
    what = "Harga laptop dinaikkan tiga kali lipat oleh panitia."
    refused = _post(client, token, nonce, {**BASIC, "title": "Mark-up", "what": what})
    assert refused.status_code == 409
    assert "Laporan ini sudah dikirim" in refused.text
    assert f">{what}</textarea>" in refused.text, "the reporter's text was lost"
    fresh = NONCE_RE.search(refused.text)
    assert fresh and fresh.group(1) != nonce
    assert _cases(ctx) == 1
    # Sent from there, it is a report of its own.
    again = _post(client, token, fresh.group(1), {**BASIC, "title": "Mark-up", "what": what})
    assert again.status_code == 303 and _cases(ctx) == 2


HELD_RE = re.compile(r'name="held_files" value="([A-Za-z0-9_-]+)"')


def test_review_9_held_files_gone_stop_the_report_instead_of_vanishing(
        app: Any, client: TestClient, demo: Any, ctx: Any, clock: Any) -> None:
    """The page said "already attached, no need to pick them again"; 31 minutes later (a phone,
    a slow correction) the report was filed without them and nobody was told."""
    from wbs.cases import receipt_hold
    from wbs.models import Attachment, HeldUpload

    token, nonce = _form(client)
    first = client.post(
        "/lapor", data={"csrf_token": token, "nonce": nonce, **BASIC, "what": ""},
        files=[("files", ("kuitansi-asli.txt", b"isi", "text/plain"))])
    held = HELD_RE.search(first.text)
    assert first.status_code == 400 and held
    # A stranger with the page (its token) neither gets the files nor destroys them.
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as stranger:
        their_token, their_nonce = _form(stranger)
        stolen = stranger.post("/lapor", data={"csrf_token": their_token, "nonce": their_nonce,
                                               "held_files": held.group(1), **BASIC},
                               files=NO_FILE)
        assert stolen.status_code == 400 and _cases(ctx) == 0
        assert "kuitansi-asli.txt" not in stolen.text
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(HeldUpload)) == 1
    clock.advance(minutes=receipt_hold.HOLD_MINUTES + 1)
    sent = client.post("/lapor", data={"csrf_token": token, "nonce": nonce,
                                       "held_files": held.group(1), **BASIC}, files=NO_FILE)
    assert _cases(ctx) == 0, "the report was filed without the files the page said it kept"
    assert sent.status_code == 400
    assert "kuitansi-asli.txt" in sent.text and 'href="#files"' in sent.text
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    # Attached again, it goes.
    fresh = NONCE_RE.search(sent.text)
    assert fresh
    done = client.post("/lapor", data={"csrf_token": token, "nonce": fresh.group(1), **BASIC},
                       files=[("files", ("kuitansi-asli.txt", b"isi", "text/plain"))])
    assert done.status_code == 303 and _cases(ctx) == 1
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 1
