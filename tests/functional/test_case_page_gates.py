"""Staff case pages refuse what they cannot mean before touching the case: a case number longer
than any, an action or dossier format that does not exist; and no file of a case is decrypted
before a purpose is given."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_intake import CODE_RE, submit_form
from tests.functional.workflow_helpers import audit_since, last_seq, state_of
from wbs.context import Context
from wbs.models import Attachment, Case


def _filed_with_file(client: TestClient, ctx: Context) -> tuple[str, int]:
    page = submit_form(client, {"kind": "complaint", "title": "Jalan rusak",
                                "what": "Jalan di depan pasar rusak.",
                                "identity_mode": "anonymous"},
                       files=[("foto.txt", b"bukti jalan rusak", "text/plain")])
    assert CODE_RE.search(page.text)
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()
        attachment = s.scalars(select(Attachment.id)).one()
    return number, attachment


def _verifier(app: Any, demo: Any, clock: Clock) -> TestClient:
    staff = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert sign_in(staff, demo["verifikator"], "verifikator", clock).status_code == 303
    return staff


def test_nothing_of_a_case_opens_before_a_purpose_is_given(
        app: Any, client: TestClient, ctx: Context, demo: Any, clock: Clock) -> None:
    number, attachment = _filed_with_file(client, ctx)
    staff = _verifier(app, demo, clock)
    token = csrf_from(staff, "/staf")
    seq = last_seq(ctx)
    download = staff.get(f"/staf/kasus/{number}/lampiran/{attachment}")
    assert download.status_code == 303 and download.headers["location"] == f"/staf/kasus/{number}"
    assert b"bukti jalan rusak" not in download.content
    assert not [e for e in audit_since(ctx, seq) if e.action.startswith("case.")]
    # With a purpose, the same download is the file.
    staff.post(f"/staf/kasus/{number}/tujuan", data={"csrf_token": token,
                                                    "purpose": "Verifikasi laporan"})
    got = staff.get(f"/staf/kasus/{number}/lampiran/{attachment}")
    assert got.status_code == 200 and got.content == b"bukti jalan rusak"


def test_what_cannot_exist_is_not_found_and_not_recorded(
        app: Any, client: TestClient, ctx: Context, demo: Any, clock: Clock) -> None:
    number, _ = _filed_with_file(client, ctx)
    staff = _verifier(app, demo, clock)
    token = csrf_from(staff, "/staf")
    seq = last_seq(ctx)
    assert staff.get("/staf/kasus/" + "W" * 33).status_code == 404
    assert staff.post(f"/staf/kasus/{number}/aksi/delete_everything",
                      data={"csrf_token": token}).status_code == 404
    assert audit_since(ctx, seq) == []
    investigator = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert sign_in(investigator, demo["investigator"], "investigator", clock).status_code == 303
    seq = last_seq(ctx)
    assert investigator.get(f"/staf/kasus/{number}/dosier.docx").status_code == 404
    assert audit_since(ctx, seq) == []
    assert state_of(ctx, number) == "received"
