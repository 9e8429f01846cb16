"""Issue 10: the kinds of the profile in force are what a reporter (and staff, for an offline
report) can choose; the case keeps the regulation's kind beside the workflow kind; a kind not in
the profile is refused with the form kept; statistics count by it.

Expected lists are written out by hand from RULES §2 (Perbup Jayapura 58/2023 Ps 14(5):
apresiasi, aspirasi, kritik; permintaan informasi, keluhan; pengaduan) and the national kinds,
not derived from the code.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from wbs.cases import intake
from wbs.context import Context
from wbs.enums import Channel
from wbs.models import Case, Unit
from wbs.profiles import store
from wbs.reports import rollup, statistics
from wbs.reports.tables import StatCaseDay

NATIONAL = ["whistleblowing", "complaint", "information_request", "aspiration"]
OFFERED = {
    "sanggau": NATIONAL,
    "belitung-timur": NATIONAL,
    "kapuas": NATIONAL,
    "jayapura": ["whistleblowing", "apresiasi", "aspiration", "kritik", "information_request",
                 "keluhan", "complaint"],
}
JAYAPURA_LABELS = {"id": ["Apresiasi", "Kritik", "Keluhan"],
                   "en": ["Appreciation", "Criticism", "Grievance"]}
KIND_RE = re.compile(r'<input type="radio" id="kind-[^"]+" name="kind" value="([^"]+)"')
TITLE, WHAT = "Loket KTP tutup siang", "Loket KTP di kecamatan tutup jam 12 setiap hari."


def _offered(html: str) -> list[str]:
    return KIND_RE.findall(html)


def _post(client: TestClient, fields: dict[str, str]) -> Any:
    token = csrf_from(client, "/lapor")
    return client.post("/lapor", data={"csrf_token": token, **fields},
                       files=[("files", ("", b"", "x/y"))], follow_redirects=True)


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("profile", sorted(OFFERED))
def test_the_public_form_offers_exactly_the_profile_kinds(
        client: TestClient, ctx: Context, demo: Any, profile: str, lang: str) -> None:
    store.choose(ctx, profile, "admin", "administrator")
    client.headers["accept-language"] = lang
    page = client.get("/lapor")
    assert page.status_code == 200
    assert _offered(page.text) == OFFERED[profile]
    if profile == "jayapura":
        for label in JAYAPURA_LABELS[lang]:
            assert f"<strong>{label}</strong>" in page.text
        other = JAYAPURA_LABELS["en" if lang == "id" else "id"]
        assert not any(f"<strong>{label}</strong>" in page.text for label in other)
    # A link that preselects a kind works for the profile's kinds only.
    chosen = client.get("/lapor?jenis=keluhan").text
    assert ('value="keluhan" checked' in chosen) is (profile == "jayapura")


@pytest.mark.parametrize("profile", sorted(OFFERED))
def test_the_staff_intake_form_offers_the_profile_kinds(
        client: TestClient, ctx: Context, demo: Any, clock: Clock, profile: str) -> None:
    store.choose(ctx, profile, "admin", "administrator")
    sign_in(client, demo["verifikator"], "verifikator", clock)
    # A verifier never enters whistleblowing (RULES §2): everything else of the profile.
    assert _offered(client.get("/staf/penerimaan").text) == OFFERED[profile][1:]


def test_apip_staff_are_offered_whistleblowing_too(client: TestClient, ctx: Context,
                                                   demo: Any, clock: Clock) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    sign_in(client, demo["investigator"], "investigator", clock)
    assert _offered(client.get("/staf/penerimaan").text) == OFFERED["jayapura"]


def test_a_profile_kind_is_stored_beside_its_workflow_kind_and_shown_to_staff(
        client: TestClient, ctx: Context, demo: Any, clock: Clock) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    identity = {"identity_mode": "confidential", "identity_name": "Yakobus",
                "identity_address": "Sentani", "identity_phone": "0812"}
    for kind in ("keluhan", "apresiasi", "complaint"):
        assert _post(client, {"kind": kind, "title": TITLE, "what": WHAT, **identity}) \
            .status_code == 200
    with ctx.db() as s:
        rows = s.execute(select(Case.case_number, Case.kind, Case.profile_kind, Unit.kind)
                         .join(Unit, Unit.id == Case.receiving_unit_id).order_by(Case.id)).all()
    # keluhan is a complaint for routing and limits, apresiasi an aspiration (RULES §2, §5);
    # both reach the verifier team, like any non-whistleblowing report.
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("complaint", "keluhan", "verifier_team"), ("aspiration", "apresiasi", "verifier_team"),
        ("complaint", "pengaduan", "verifier_team")]
    client.cookies.clear()
    client.headers["accept-language"] = "id"
    sign_in(client, demo["verifikator"], "verifikator", clock)
    fact = _kind_fact(client, rows[0][0])
    assert fact[0] == "keluhan" and fact[1].startswith("Keluhan (diproses sebagai: ")
    assert _kind_fact(client, rows[1][0])[1].startswith("Apresiasi (")
    # A national kind reads as before: just its name.
    assert _kind_fact(client, rows[2][0]) == ("pengaduan", "Pengaduan")


def _kind_fact(client: TestClient, number: str) -> tuple[str, str]:
    page = client.get(f"/staf/kasus/{number}")
    if 'action="/staf/kasus/' + number + '/tujuan"' in page.text:
        token = csrf_from(client, f"/staf/kasus/{number}")
        page = client.post(f"/staf/kasus/{number}/tujuan",
                           data={"csrf_token": token, "purpose": "verifikasi"},
                           follow_redirects=True)
    fact = re.search(r'<dd data-kind="([^"]+)">([^<]+)</dd>', page.text)
    assert fact is not None, page.text[:2000]
    return fact.group(1), fact.group(2).strip()

@pytest.mark.parametrize("forged", ["keluhan", "kritik", "bukan-jenis", "COMPLAINT"])
def test_a_kind_not_in_the_profile_is_refused_and_nothing_typed_is_lost(
        client: TestClient, ctx: Context, demo: Any, forged: str) -> None:
    store.choose(ctx, "sanggau", "admin", "administrator")
    client.headers["accept-language"] = "en"
    refused = _post(client, {"kind": forged, "title": TITLE, "what": WHAT,
                             "where": "Kecamatan Sentani", "identity_mode": "anonymous"})
    assert refused.status_code == 400
    assert "This kind of report is not used by this portal" in refused.text
    client.headers["accept-language"] = "id"
    assert "Jenis laporan ini tidak digunakan di portal ini" in _post(
        client, {"kind": forged, "title": TITLE, "what": WHAT}).text
    assert 'href="#kind-whistleblowing"' in refused.text  # the summary links to the choice
    for typed in (TITLE, WHAT, "Kecamatan Sentani"):
        assert typed in refused.text
    assert _offered(refused.text) == NATIONAL
    with ctx.db() as s:
        assert s.scalars(select(Case)).all() == []


def test_a_forged_kind_is_refused_by_staff_intake_and_the_api(
        client: TestClient, ctx: Context, demo: Any, clock: Clock) -> None:
    store.choose(ctx, "belitung-timur", "admin", "administrator")
    client.headers["accept-language"] = "en"
    api = client.post("/api/v1/reports", json={"kind": "apresiasi", "title": TITLE,
                                               "what": WHAT})
    assert api.status_code == 422
    assert api.json()["fields"]["kind"] == "kind_not_offered"
    sign_in(client, demo["verifikator"], "verifikator", clock)
    token = csrf_from(client, "/staf/penerimaan")
    staff = client.post("/staf/penerimaan", data={
        "csrf_token": token, "channel": "letter", "kind": "kritik", "title": TITLE,
        "what": WHAT, "identity_mode": "anonymous"}, files=[("files", ("", b"", "x/y"))])
    assert staff.status_code == 400 and WHAT in staff.text
    assert "This kind of report is not used by this portal" in staff.text
    with ctx.db() as s:
        assert s.scalars(select(Case)).all() == []


def _file(ctx: Context, kind: str) -> str:
    profile = store.current(ctx)
    report = intake.parse_report({"kind": kind, "title": TITLE, "what": WHAT,
                                  "identity_mode": "confidential", "identity_name": "Yakobus",
                                  "identity_address": "Sentani", "identity_phone": "0812"},
                                 [], identity_required=profile.identity_required,
                                 kinds=profile.kinds)
    return intake.submit(ctx, report, [], Channel.WEB).case_number


def test_statistics_count_by_the_profile_kind(client: TestClient, ctx: Context, demo: Any,
                                              clock: Clock) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    filed = [_file(ctx, k) for k in ("keluhan", "keluhan", "apresiasi", "kritik", "complaint",
                                     "information_request", "whistleblowing")]
    # A case from before profile kinds (NULL): counted under its kind's national name.
    old = _file(ctx, "complaint")
    with ctx.db.begin() as s:
        s.execute(update(Case).where(Case.case_number == old).values(profile_kind=None))
    assert len(filed) == 7
    # Hand-counted: keluhan 2; apresiasi 1; kritik 1; pengaduan 1 + the old case = 2;
    # permintaan_informasi 1; whistleblowing 1. By workflow kind: complaint 4 (2 keluhan, 2
    # pengaduan), aspiration 2 (apresiasi, kritik), information_request 1, whistleblowing 1.
    today = ctx.today()
    with ctx.db() as s:
        stats = statistics.compute(s, statistics.Period(date(today.year, 1, 1), today), today)
    by = {k: f.received for k, f in stats.by["profile_kind"].items()}
    assert by == {"keluhan": 2, "apresiasi": 1, "kritik": 1, "pengaduan": 2,
                  "permintaan_informasi": 1, "whistleblowing": 1}
    assert {k: f.received for k, f in stats.by["kind"].items()} == {
        "complaint": 4, "aspiration": 2, "information_request": 1, "whistleblowing": 1}
    # The same figures once the statistics roll-up holds the days (issue 11's job).
    with ctx.db.begin() as s:
        assert rollup.refresh(s, today) > 0
        assert s.scalar(select(func.count()).select_from(StatCaseDay).where(
            StatCaseDay.dim == "profile_kind")) > 0
    with ctx.db() as s:
        # The filing day is served by the roll-up, not counted from the cases again.
        assert (today, today) not in rollup.direct_ranges(s, today, today, today)
        rolled = statistics.compute(s, statistics.Period(date(today.year, 1, 1), today), today)
    assert {k: f.received for k, f in rolled.by["profile_kind"].items()} == by
    # The leadership's page shows the dimension, labelled from the profile.
    client.headers["accept-language"] = "id"
    sign_in(client, demo["pimpinan"], "pimpinan", clock)
    page = client.get(f"/staf/statistik?dari={today.year}-01-01&sampai={today.isoformat()}")
    assert page.status_code == 200
    table = page.text.split('data-table="profile_kind"')[1].split("</table>")[0]
    rows = dict(re.findall(r'<tr data-row="([^"]+)"><th scope="row">[^<]+</th><td>(\d+)</td>',
                           table))
    assert rows == {"whistleblowing": "1", "apresiasi": "1", "aspirasi": "0", "kritik": "1",
                    "permintaan_informasi": "1", "keluhan": "2", "pengaduan": "2"}
    assert '<th scope="row">Keluhan</th>' in table


@pytest.mark.parametrize(("profile", "regional"), [
    ("sanggau", None),
    ("jayapura", "Indikasi pelanggaran (pemeriksaan lapangan)"),
    ("belitung-timur", "Sengketa / tanpa pemeriksaan lapangan"),
])
def test_the_verifier_chooses_the_classification_under_the_profile_labels(
        client: TestClient, ctx: Context, demo: Any, clock: Clock, profile: str,
        regional: str | None) -> None:
    store.choose(ctx, profile, "admin", "administrator")
    number = _file(ctx, "complaint")
    sign_in(client, demo["verifikator"], "verifikator", clock)
    page = client.get(f"/staf/kasus/{number}")
    if f'action="/staf/kasus/{number}/tujuan"' in page.text:
        token = csrf_from(client, f"/staf/kasus/{number}")
        page = client.post(f"/staf/kasus/{number}/tujuan",
                           data={"csrf_token": token, "purpose": "verifikasi"},
                           follow_redirects=True)
    labels = re.findall(r"<span data-regional-label>([^<]+)</span>", page.text)
    if regional is None:  # Sanggau's labels are the national terms themselves
        assert labels == []
    else:
        assert regional in labels and len(labels) == 2


def test_the_reporter_sees_the_kind_they_chose(app: Any, client: TestClient, ctx: Context,
                                               demo: Any) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    client.headers["accept-language"] = "id"
    receipt = _post(client, {"kind": "apresiasi", "title": TITLE, "what": WHAT})
    code = re.search(r'class="code-box"[^>]*>([0-9A-Z-]{29})<', receipt.text)
    assert code is not None
    mailbox = TestClient(app, base_url="https://testserver", follow_redirects=False)
    mailbox.headers["accept-language"] = "en"
    token = csrf_from(mailbox, "/kotak-pesan")
    assert mailbox.post("/kotak-pesan/masuk", data={"csrf_token": token,
                                                    "code": code.group(1)}).status_code == 303
    assert '<dd data-kind="apresiasi">Appreciation</dd>' in mailbox.get("/kotak-pesan").text
