"""Issue 3 done-whens 3, 5 and 6 through the running app, and the API's 4xx discipline."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select, update
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_roundtrip import staff_open
from wbs.models import Attachment, Case
from wbs.web.upload_form import FORM_OVERHEAD_BYTES


def _api_report(client: TestClient, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/reports", json={"kind": "complaint", "title": "Air mati",
                                             "what": "Air PDAM mati seminggu.", **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_ciphertext_moved_to_another_case_or_field_fails(client: TestClient, demo: Any,
                                                         clock: Clock, ctx: Any) -> None:
    first, second = _api_report(client), _api_report(client, what="Laporan kedua")
    sign_in(client, demo["verifikator"], "verifikator", clock)
    assert "Laporan kedua" in staff_open(client, second["case_number"]).text
    with ctx.db.begin() as s:
        source = s.scalars(select(Case).where(Case.case_number == first["case_number"])).one()
        s.execute(update(Case).where(Case.case_number == second["case_number"])
                  .values(report_sealed=source.report_sealed))
    # The copied ciphertext is bound to the first case: opening it under the second fails, and
    # nothing of the first case is shown.
    page = staff_open(client, second["case_number"])
    assert page.status_code == 500
    assert "Air PDAM mati" not in page.text


def test_message_body_moved_into_report_field_fails(client: TestClient, demo: Any,
                                                   clock: Clock, ctx: Any) -> None:
    from wbs.crypto.aead import DecryptionError
    from wbs.models import Message

    report = _api_report(client)
    r = client.post("/api/v1/mailbox/messages", json={"code": report["code"], "body": "Halo"})
    assert r.status_code == 201
    with ctx.db.begin() as s:
        message_id, body = s.execute(select(Message.id, Message.body_sealed)).one()
        s.execute(update(Case).values(report_sealed=body))
    sign_in(client, demo["verifikator"], "verifikator", clock)
    page = staff_open(client, report["case_number"])
    assert page.status_code == 500 and "Halo" not in page.text
    from wbs.cases import reporter, sealing

    # With the right case key, the body still fails: its AAD names the message field.
    access = reporter.access_by_code(ctx, report["code"])
    assert access is not None
    with ctx.db() as s:
        case = s.scalars(select(Case)).one()
        key = sealing.reporter_unwrap(s, case, "content", access.secret)
    with pytest.raises(DecryptionError):
        sealing.open_json(key, case, "report", case.report_sealed)
    assert sealing.open_text(key, case, f"message:{message_id}", case.report_sealed) == "Halo"


def test_receipts_genuine_forged_altered(client: TestClient, demo: Any) -> None:
    report = _api_report(client)
    receipt = report["receipt"]
    ok = client.post("/api/v1/receipts/verify", json={"receipt": receipt}).json()
    assert ok == {"valid": True, "case_number": report["case_number"],
                  "received_on": report["received_on"]}
    prefix, payload, signature = receipt.split(".")
    import base64
    import json

    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["case"] = "WBS-2026-999999"
    forged_payload = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for bad in (f"{prefix}.{forged_payload}.{signature}", f"{prefix}.{payload}.{flipped}",
                receipt[:-5], "WBS1.x.y", "", "a" * 5000):
        assert client.post("/api/v1/receipts/verify", json={"receipt": bad}).json() == {
            "valid": False}
    # A receipt signed by another instance's key is refused too.
    from wbs.cases.receipts import make_receipt
    from wbs.crypto import signing

    other = make_receipt(signing.generate_signing_key(), report["case_number"],
                         __import__("datetime").date.fromisoformat(report["received_on"]),
                         b"\0" * 32)
    assert client.post("/api/v1/receipts/verify", json={"receipt": other}).json()["valid"] is False
    token = csrf_from(client, "/verifikasi")
    page = client.post("/verifikasi", data={"csrf_token": token, "receipt": receipt})
    assert "Tanda terima sah" in page.text or report["case_number"] in page.text


async def _drive(app: Any, path: str, chunks: Any, headers: list[tuple[bytes, bytes]]
                 ) -> tuple[int, int]:
    """Call the ASGI app directly, counting how many body chunks it pulled."""
    pulled = 0
    status = 0
    iterator = iter(chunks)

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        try:
            chunk = next(iterator)
        except StopIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(b"host", b"testserver"), *headers],
             "scheme": "https", "http_version": "1.1",
             "server": ("testserver", 443), "client": ("127.0.0.1", 5000), "root_path": ""}
    await app(scope, receive, send)
    return status, pulled


def test_upload_over_cap_is_413_without_reading_the_body(app: Any, client: TestClient,
                                                         demo: Any, ctx: Any) -> None:
    import asyncio

    report = _api_report(client)
    cap = ctx.settings.max_report_bytes

    def body() -> Any:
        yield (b'--XyZ\r\nContent-Disposition: form-data; name="code"\r\n\r\n'
               + report["code"].encode() + b"\r\n--XyZ\r\n"
               b'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n')
        for _ in range(cap // (1 << 20) + 50):
            yield b"\0" * (1 << 20)

    headers = [(b"content-type", b"multipart/form-data; boundary=XyZ")]
    status, pulled = asyncio.run(_drive(app, "/api/v1/mailbox/attachments", body(), headers))
    assert status == 413
    assert pulled < 30  # stopped at the 25 MB file cap; the body was 150 MB
    # The cap counts file bytes; the body may add the form's fields and framing on top.
    too_long = cap + FORM_OVERHEAD_BYTES + 1
    status, pulled = asyncio.run(_drive(
        app, "/lapor", body(), [*headers, (b"content-length", str(too_long).encode())]))
    assert status == 413 and pulled == 0  # refused on the declared length alone
    with ctx.db() as s:
        assert s.scalars(select(Attachment)).first() is None


def test_jpeg_with_gps_comes_back_without_it(client: TestClient, demo: Any, clock: Clock,
                                             ctx: Any) -> None:
    image = Image.new("RGB", (40, 30), (10, 200, 10))
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "S", (6.0, 12.0, 30.0), "E", (106.0, 49.0, 10.0)
    exif[0x013B] = "Nama Fotografer"
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif)
    assert Image.open(io.BytesIO(buf.getvalue())).getexif().get_ifd(0x8825)
    report = _api_report(client)
    r = client.post("/api/v1/mailbox/attachments", data={"code": report["code"]},
                    files={"file": ("foto.jpg", buf.getvalue(), "image/jpeg")})
    assert r.status_code == 201
    sign_in(client, demo["verifikator"], "verifikator", clock)
    staff_open(client, report["case_number"])
    download = client.get(f"/staf/kasus/{report['case_number']}/lampiran/{r.json()['ids'][0]}")
    assert download.status_code == 200
    back = Image.open(io.BytesIO(download.content))
    assert back.size == (40, 30)
    assert not back.getexif().get_ifd(0x8825) and 0x013B not in back.getexif()
    assert b"Nama Fotografer" not in download.content


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/api/v1/reports", b"{not json", 400),
    ("/api/v1/reports", b"[1, 2]", 400),
    ("/api/v1/reports", b'{"kind": "gossip", "title": "", "what": 5}', 422),
    ("/api/v1/reports", b'{"kind": "complaint", "title": "x", "what": "y", "identity": 7}', 422),
    ("/api/v1/status", b'{"code": 12345}', 404),
    ("/api/v1/status", b'{"code": "' + b"Z" * 100_000 + b'"}', 404),
    ("/api/v1/mailbox", b"{}", 404),
    ("/api/v1/mailbox/messages", b'{"code": null, "body": "x"}', 404),
    ("/api/v1/mailbox/identity", b'{"code": "AAAA"}', 404),
    ("/api/v1/receipts/verify", b'{"receipt": {"a": 1}}', 200),
])
def test_api_bad_input_is_4xx_json(client: TestClient, demo: Any, path: str, body: bytes,
                                   status: int) -> None:
    r = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    if status >= 400:
        assert "error" in r.json()


def test_api_wrong_content_type_and_openapi(client: TestClient) -> None:
    r = client.post("/api/v1/status", content=b"code=x",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and r.json()["error"] == "error"
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) == {"/api/v1/reports", "/api/v1/status", "/api/v1/mailbox",
                                  "/api/v1/mailbox/messages", "/api/v1/mailbox/identity",
                                  "/api/v1/mailbox/attachments", "/api/v1/mailbox/code",
                                  "/api/v1/receipts/verify"}
