"""The report form's files kept between posts, at their edges: a forged keep token files nothing
and asks for the files again; kept files plus new ones past the limit are refused and not kept;
a browser without the form's secret cookie still files its report once and sees its receipt."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.functional.test_finding_9_report_form import (
    BASIC,
    HELD_RE,
    NO_FILE,
    _cases,
    _code,
    _form,
    _post,
)
from wbs.models import HeldUpload
from wbs.web.report_views import HELD_FIELD, SECRET_COOKIE
from wbs.web.upload_form import MAX_FILES

HELD_LOST = {
    "en": "The files kept with this form are no longer available (they are kept for 30 minutes, "
          "in the browser that attached them). Nothing was sent. Please attach them again.",
    "id": "Berkas yang disimpan bersama formulir ini sudah tidak tersedia (disimpan 30 menit, di "
          "peramban yang melampirkannya). Belum ada yang dikirim. Silakan lampirkan lagi."}
TOO_MANY = {
    "en": "Together with the files kept from before, these are too many files or too large (at "
          "most 20 files and 100 MB). Please choose again.",
    "id": "Bersama berkas yang disimpan sebelumnya, berkas ini terlalu banyak atau terlalu besar "
          "(paling banyak 20 berkas dan 100 MB). Silakan pilih lagi."}


def _held(ctx: Any) -> int:
    with ctx.db() as s:
        return int(s.scalar(select(func.count()).select_from(HeldUpload)) or 0)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_forged_keep_token_files_nothing_and_asks_for_the_files_again(
        client: TestClient, demo: Any, ctx: Any, lang: str) -> None:
    client.headers["Accept-Language"] = lang
    token, nonce = _form(client)
    r = client.post("/lapor", data={"csrf_token": token, "nonce": nonce, HELD_FIELD: "x!",
                                    **BASIC}, files=NO_FILE)
    assert r.status_code == 400 and HELD_LOST[lang] in r.text
    assert 'value="Pungli izin"' in r.text  # what was typed comes back
    assert _cases(ctx) == 0


@pytest.mark.parametrize("lang", ["id", "en"])
def test_kept_files_and_new_ones_past_the_limit_are_refused_and_not_kept(
        client: TestClient, demo: Any, ctx: Any, lang: str) -> None:
    client.headers["Accept-Language"] = lang
    token, nonce = _form(client)
    first = _post(client, token, nonce, {**BASIC, "title": ""},
                  files=[("files", ("kuitansi.txt", b"kuitansi 50.000", "text/plain"))])
    held = HELD_RE.search(first.text)
    assert first.status_code == 400 and held and _held(ctx) == 1
    more = [("files", (f"foto-{n}.txt", b"bukti %d" % n, "text/plain"))
            for n in range(MAX_FILES)]
    r = client.post("/lapor", data={"csrf_token": token, "nonce": nonce,
                                    HELD_FIELD: held.group(1), **BASIC}, files=more)
    assert r.status_code == 400 and TOO_MANY[lang] in r.text
    assert HELD_RE.search(r.text) is None  # nothing kept: the reporter chooses again
    assert _cases(ctx) == 0 and _held(ctx) == 0


def test_a_browser_without_the_forms_secret_cookie_files_once_and_sees_its_receipt(
        client: TestClient, demo: Any, ctx: Any) -> None:
    token, nonce = _form(client)
    client.cookies.delete(SECRET_COOKIE)
    sent = _post(client, token, nonce)
    assert sent.status_code == 303 and client.cookies.get(SECRET_COOKIE)  # a new one, set now
    code = _code(client.get(sent.headers["location"]).text)
    assert _post(client, token, nonce).status_code == 303  # the same form again: its receipt
    assert _code(client.get("/lapor/tanda-terima").text) == code
    assert _cases(ctx) == 1


def test_closing_a_receipt_without_its_cookies_just_goes_home(
        app: Any, client: TestClient, demo: Any, ctx: Any) -> None:
    token, nonce = _form(client)
    code = _code(client.get(_post(client, token, nonce).headers["location"]).text)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as other:
        other_token, _ = _form(other)
        done = other.post("/lapor/tanda-terima/selesai", data={"csrf_token": other_token})
        assert done.status_code == 303 and done.headers["location"] == "/"
    assert _code(client.get("/lapor/tanda-terima").text) == code  # the owner's is untouched
