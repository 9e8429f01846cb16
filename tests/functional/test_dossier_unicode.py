"""The APIP dossier prints names as typed, beyond Latin-1 (issue 11: "the APIP dossier moves to
the same font" as the report documents)."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, sign_in
from tests.functional.test_intake import submit_form
from tests.functional.test_roundtrip import staff_open
from wbs.models import Case


def test_a_name_beyond_latin_1_survives_in_the_pdf(client: TestClient, demo: Any, clock: Clock,
                                                   ctx: Any) -> None:
    submit_form(client, {"kind": "whistleblowing", "title": "Pungutan oleh Wayan Sŭmĕrta",
                         "what": "Kepala seksi Ŋurah meminta uang pelicin.",
                         "who_name": "Ŋurah", "identity_mode": "anonymous"})
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()
    sign_in(client, demo["investigator"], "investigator", clock)
    staff_open(client, number)
    pdf = client.get(f"/staf/kasus/{number}/dosier.pdf")
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    squeezed = "".join(text.split())
    assert "PungutanolehWayanSŭmĕrta" in squeezed and "Ŋurahmemintauangpelicin" in squeezed
