"""Issue 3 done-when 1 (and issue 4 done-when 6): nothing readable at rest or in logs.

Reports are submitted through the form and the API, with attachments over 1 MiB (so Starlette
would have spooled them to disk), every field carrying a unique marker. Then the database files
(SQLite main file and WAL, or a PostgreSQL dump), the data dir, the system temp dir, the captured
logs, the audit table and an audit CSV export are searched: no marker and no code may appear.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select, text
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_intake import CODE_RE
from tests.functional.test_roundtrip import open_mailbox, staff_open
from wbs import jobs, logs
from wbs.models import AuditEntry, Case


def _marker(name: str) -> str:
    return f"CANARY{name.upper()}{secrets.token_hex(6).upper()}"


def _jpeg_with_exif(marker: str) -> bytes:
    image = Image.new("RGB", (64, 48), (120, 30, 30))
    exif = Image.Exif()
    exif[0x010E] = marker  # ImageDescription
    exif[0x013B] = marker  # Artist
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def _big_file(marker: str) -> bytes:
    line = (marker + " ").encode()
    return line * (1_200_000 // len(line) + 1)  # over 1 MiB


def _snapshot(directory: Path) -> dict[Path, float]:
    found = {}
    for root, _dirs, files in os.walk(directory):
        for name in files:
            path = Path(root) / name
            try:
                found[path] = path.stat().st_mtime
            except OSError:
                continue
    return found


def _scan_bytes(blob: bytes, needles: list[str], where: str) -> list[str]:
    lowered = blob.lower()
    return [f"{n} in {where}" for n in needles
            if n.encode() in blob or n.lower().encode() in lowered]


def test_no_marker_or_code_anywhere(app: Any, client: TestClient, demo: Any, clock: Clock,
                                    ctx: Any, settings: Any, caplog: Any,
                                    tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    temp_before = _snapshot(Path(tempfile.gettempdir()))
    fields = ["title", "what", "who_name", "who_nip", "who_agency", "who_position", "where",
              "when", "how", "identity_name", "identity_nip", "identity_address",
              "identity_phone", "identity_email", "identity_occupation"]
    markers = {f: _marker(f) for f in fields}
    markers["who_nip"] = markers["identity_nip"] = None  # type: ignore[assignment]
    markers = {k: v for k, v in markers.items() if v}
    nip = "1987" + str(secrets.randbelow(10**14)).zfill(14)
    file_marker, exif_marker, msg_marker, api_marker = (
        _marker("file"), _marker("exif"), _marker("message"), _marker("api"))
    codes: list[str] = []

    # 1. The web form, with a big file and a JPEG whose EXIF carries a marker.
    token = csrf_from(client, "/lapor")
    form = {"csrf_token": token, "kind": "whistleblowing", "identity_mode": "confidential",
            "who_nip": nip, "identity_nip": nip,
            "identity_email": f"{markers['identity_email'].lower()}@example.org",
            **{k: v for k, v in markers.items() if k != "identity_email"}}
    r = client.post("/lapor", data=form, files=[
        ("files", ("bukti-besar.bin", _big_file(file_marker), "application/octet-stream")),
        ("files", ("foto.jpg", _jpeg_with_exif(exif_marker), "image/jpeg"))],
        follow_redirects=True)
    assert r.status_code == 200, r.text[:300]
    found = CODE_RE.search(r.text)
    assert found
    codes.append(found.group(1))

    # 2. The API, then a big attachment and a message through the API.
    api = client.post("/api/v1/reports", json={
        "kind": "complaint", "title": api_marker, "what": api_marker, "how": api_marker,
        "who": {"name": api_marker, "agency": api_marker},
        "identity": {"name": api_marker, "phone": "0812" + api_marker[-6:]}})
    assert api.status_code == 201
    codes.append(api.json()["code"])
    upload = client.post("/api/v1/mailbox/attachments", data={"code": codes[1]},
                         files={"file": ("dok.bin", _big_file(file_marker), "x/y")})
    assert upload.status_code == 201, upload.text
    assert client.post("/api/v1/mailbox/messages",
                       json={"code": codes[1], "body": msg_marker}).status_code == 201

    # 3. The web mailbox, and the investigator reading the whistleblowing report (so keys are
    #    unwrapped, content decrypted and rendered: none of it may reach a log).
    reporter = TestClient(app, base_url="https://testserver", follow_redirects=False)
    open_mailbox(reporter, codes[0])
    mailbox = reporter.get("/kotak-pesan")
    assert markers["title"] not in mailbox.text  # the mailbox shows messages, not the report
    sign_in(client, demo["investigator"], "investigator", clock)
    with ctx.db() as s:
        numbers = list(s.scalars(select(Case.case_number).order_by(Case.id)))
    page = staff_open(client, numbers[0])
    assert markers["what"] in page.text  # decryption works for the right person...
    assert markers["identity_name"] not in page.text  # ...and identity stays sealed

    # 4. An audit export, to scan it too, once the reporters' day has been appended to the log.
    clock.advance(days=1)
    jobs.run_all(ctx)
    client.cookies.clear()
    sign_in(client, demo["auditor"], "auditor", clock)
    export = client.get("/staf/audit/ekspor.csv")
    assert export.status_code == 200
    export_text = export.text
    assert "case.submit" in export_text  # the export really holds the log

    needles = [*markers.values(), nip, file_marker, exif_marker, msg_marker, api_marker]
    code_forms = []
    for code in codes:
        bare = code.replace("-", "")
        code_forms += [code, bare, bare.lower()]
    problems: list[str] = []

    # Database files, or a dump of the PostgreSQL schema.
    ctx.engine.dispose()
    if settings.database_url.startswith("sqlite"):
        db_file = Path(settings.database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = Path(str(db_file) + suffix)
            if path.exists():
                problems += _scan_bytes(path.read_bytes(), needles + code_forms, path.name)
    else:
        schema = settings.database_url.split("search_path%3D")[1]
        dump = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "-n", schema,
                               "test"], capture_output=True, check=True, timeout=120).stdout
        assert b"audit_entries" in dump
        problems += _scan_bytes(dump, needles + code_forms, "pg_dump")

    # The data dir, and every file in the temp dir that appeared or changed during the test.
    for path in _snapshot(settings.data_dir):
        problems += _scan_bytes(path.read_bytes(), needles + code_forms, str(path))
    for path, mtime in _snapshot(Path(tempfile.gettempdir())).items():
        if temp_before.get(path) != mtime and path.is_file() and tmp_path not in path.parents:
            try:
                problems += _scan_bytes(path.read_bytes(), needles + code_forms, str(path))
            except OSError:
                continue

    # Captured logs, formatted as they would be written.
    formatter = logs.JsonFormatter()
    log_text = "\n".join(formatter.format(rec) for rec in caplog.records)
    assert '"event": "request"' in log_text  # the access log did run
    problems += _scan_bytes(log_text.encode(), needles + code_forms, "logs")

    # The audit table, read back, and the CSV export.
    with ctx.db() as s:
        rows = s.execute(text("SELECT * FROM audit_entries")).all()
        assert s.scalars(select(AuditEntry)).first() is not None
    problems += _scan_bytes(repr(rows).encode(), needles + code_forms, "audit table")
    problems += _scan_bytes(export_text.encode(), needles + code_forms, "audit export")

    assert problems == []
