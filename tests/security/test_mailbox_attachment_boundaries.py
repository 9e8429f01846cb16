"""A reporter's mailbox files, at their boundaries: another case's attachment cannot be fetched
by its id, an upload without a valid token or without a usable file stores nothing, and the API
says which of the two it was."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import csrf_from
from tests.functional.test_intake import CODE_RE, submit_form
from tests.functional.test_roundtrip import open_mailbox
from wbs.models import Attachment

REPORT = {"kind": "complaint", "title": "Pungutan di sekolah", "what": "Diminta uang seragam.",
          "identity_mode": "anonymous"}
NO_FILE = {"en": "No file was accepted. Files that cannot be processed safely are refused.",
           "id": "Tidak ada berkas yang diterima. Berkas yang tidak dapat diproses dengan aman "
                 "akan ditolak."}


def _attachments(ctx: Any) -> int:
    with ctx.db() as s:
        return int(s.scalar(select(func.count()).select_from(Attachment)) or 0)


def _file(client: TestClient, secret: bytes) -> str:
    page = submit_form(client, REPORT, files=[("bukti.txt", secret, "text/plain")])
    code = CODE_RE.search(page.text)
    assert code
    return code.group(1)


def test_another_cases_attachment_is_not_found_by_its_id(app: Any, client: TestClient,
                                                         demo: Any, ctx: Any) -> None:
    theirs = _file(client, b"RAHASIA-KASUS-PERTAMA")
    mine = _file(client, b"isi kasus kedua")
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as owner:
        open_mailbox(owner, theirs)
        link = re.search(r'href="/kotak-pesan/lampiran/([0-9]+)"', owner.get("/kotak-pesan").text)
        assert link
        assert b"RAHASIA-KASUS-PERTAMA" in owner.get(
            f"/kotak-pesan/lampiran/{link.group(1)}").content
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as other:
        open_mailbox(other, mine)
        stolen = other.get(f"/kotak-pesan/lampiran/{link.group(1)}")
        assert stolen.status_code == 404 and b"RAHASIA" not in stolen.content
        assert other.get("/kotak-pesan/lampiran/99999999999").status_code == 404


@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_upload_without_a_usable_file_or_a_valid_token_stores_nothing(
        client: TestClient, demo: Any, ctx: Any, lang: str) -> None:
    code = _file(client, b"bukti awal")
    open_mailbox(client, code)
    before = _attachments(ctx)
    token = csrf_from(client, "/kotak-pesan")
    empty = client.post("/kotak-pesan/lampiran", data={"csrf_token": token},
                        files=[("files", ("", b"", "application/octet-stream"))],
                        headers={"Accept-Language": lang})
    assert empty.status_code == 400 and NO_FILE[lang] in empty.text
    forged = client.post("/kotak-pesan/lampiran", data={"csrf_token": "palsu" * 8},
                         files=[("files", ("a.txt", b"isi", "text/plain"))])
    assert forged.status_code == 403
    assert _attachments(ctx) == before


def test_the_api_tells_a_missing_file_from_an_unsafe_one(client: TestClient, demo: Any,
                                                         ctx: Any) -> None:
    code = client.post("/api/v1/reports", json=REPORT).json()["code"]
    before = _attachments(ctx)
    missing = client.post("/api/v1/mailbox/attachments", data={"code": code},
                          files={"note": (None, "tanpa berkas")})  # multipart, but no file
    assert missing.status_code == 422
    assert missing.json() == {"error": "invalid", "fields": {"file": "required"}}
    unsafe = client.post("/api/v1/mailbox/attachments", data={"code": code},
                         files={"file": ("foto.png", b"\x89PNG\r\n\x1a\nbukan gambar",
                                         "image/png")})
    assert unsafe.status_code == 422 and unsafe.json()["error"] == "unsafe_file"
    assert unsafe.json()["files"] == ["foto.png"]  # the name alone, no reason text in JSON
    assert _attachments(ctx) == before
