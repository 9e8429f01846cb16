"""APIP's referral dossier: content included, identity only after disclosure, audited."""

from __future__ import annotations

import json
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, sign_in
from tests.functional.test_intake import submit_form
from tests.functional.test_roundtrip import staff_open
from wbs.models import AuditEntry, Case


def test_dossier_json_and_pdf(app: Any, client: TestClient, demo: Any, clock: Clock,
                              ctx: Any) -> None:
    import io

    submit_form(client, {"kind": "whistleblowing", "title": "Mark-up pengadaan",
                         "what": "Harga laptop dinaikkan dua kali lipat.",
                         "who_name": "Kabag Umum", "identity_mode": "confidential",
                         "identity_name": "Pelapor Rahasia"},
                files=[("nota.txt", b"nota pembelian", "text/plain")])
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()
    sign_in(client, demo["investigator"], "investigator", clock)
    assert client.get(f"/staf/kasus/{number}/dosier.json").status_code == 303  # purpose first
    staff_open(client, number)
    r = client.get(f"/staf/kasus/{number}/dosier.json")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    doc = json.loads(r.content)
    assert doc["report"]["what"] == "Harga laptop dinaikkan dua kali lipat."
    assert doc["reporter_identity"] is None  # not disclosed to this investigator
    assert "Pelapor Rahasia" not in r.text
    import hashlib

    assert doc["evidence"][0]["sha256"] == hashlib.sha256(b"nota pembelian").hexdigest()
    pdf = client.get(f"/staf/kasus/{number}/dosier.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Mark-up pengadaan" in text and "Pelapor Rahasia" not in text
    with ctx.db() as s:
        exports = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.export")).all()
    assert [json.loads(e.details)["format"] for e in exports] == ["json", "pdf"]
    # Nobody outside APIP can export; the verifier is refused and it is recorded.
    client.cookies.clear()
    sign_in(client, demo["verifikator"], "verifikator", clock)
    assert client.get(f"/staf/kasus/{number}/dosier.json").status_code == 403
