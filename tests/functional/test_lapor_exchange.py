"""SP4N-LAPOR! exchange (issue 10): outbox, connector, import, status flow-back, identity.

The connector talks to a real HTTP server on a local socket (`tests/lapor_server.py`); the
cases go through the real intake, sign-in, crypto and workflow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock
from tests.functional.workflow_helpers import (
    REASON,
    audit_since,
    case_row,
    dispose,
    file_report,
    last_seq,
    staff_team,
)
from tests.lapor_server import LaporStub, lapor_server
from wbs import jobs
from wbs.cases import intake, routing, service
from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.integrations import connector, lapor_format, lapor_import, outbox
from wbs.integrations.lapor_format import Reporter
from wbs.models import Case, LaporOutboxItem, LaporReference
from wbs.settings import Secret

TOKEN = "tok-CANARY-5b1e7d"
IDENTITY_CANARY = "Siti-CANARY-IDENT-8842"
TITLE = "Jalan rusak di Desa Sungai"
CONTENT = "Jalan desa rusak berat sejak tiga bulan, belum diperbaiki."
PATH = "/api/v1/laporan"


@pytest.fixture
def stub() -> Iterator[LaporStub]:
    with lapor_server() as server:
        yield server


@pytest.fixture
def team(ctx: Context, demo: dict[str, dict[str, str]], clock: Clock, stub: LaporStub) -> Any:
    ctx.settings = replace(ctx.settings, lapor_endpoint=stub.url, lapor_token=Secret(TOKEN),
                           lapor_backoff_seconds=60, lapor_backoff_cap_seconds=300,
                           lapor_max_attempts=4, lapor_timeout_seconds=5)
    return staff_team(ctx, demo, clock, "verifikator", "penghubung.kesehatan", "pimpinan",
                      "investigator")


def _complaint(ctx: Context, identity: bool = True) -> str:
    report = intake.ReportInput(
        kind=ReportKind.COMPLAINT, title=TITLE, what=CONTENT, where="Desa Sungai, Sanggau",
        when="Januari 2026",
        identity=intake.Identity(name=IDENTITY_CANARY, phone="0812-CANARY") if identity
        else None)
    return intake.submit(ctx, report, [], Channel.WEB).case_number


def _items(ctx: Context) -> list[LaporOutboxItem]:
    with ctx.db() as s:
        return list(s.scalars(select(LaporOutboxItem).order_by(LaporOutboxItem.id)))


def _forward(ctx: Context, team: Any) -> str:
    number = _complaint(ctx)
    routing.forward_external(ctx, team["verifikator"], number, "sp4n_lapor", REASON)
    return number


def test_forwarded_case_is_delivered_with_token_key_and_fields(ctx: Context, team: Any,
                                                               stub: LaporStub) -> None:
    number = _forward(ctx, team)
    [item] = _items(ctx)
    assert (item.kind, item.state, item.attempts) == ("case", "pending", 0)
    seq = last_seq(ctx)
    counts = jobs.run_all(ctx)
    assert counts["lapor_delivered"] == 1
    [post] = stub.posts(PATH)
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
    assert post.headers["Idempotency-Key"] == item.idempotency_key
    doc = json.loads(post.body)
    assert doc["judul"] == TITLE and CONTENT in doc["isi"]
    assert doc["lokasi"] == "Desa Sungai, Sanggau" and doc["kanal"] == "web"
    assert doc["tanggal_diterima"] == case_row(ctx, number).received_on.isoformat()
    assert doc["kategori"] == "pengaduan" and doc["alasan"] == "admin_nasional"
    assert doc["id_eksternal"] == number and doc["anonim"] is True
    [item] = _items(ctx)
    assert (item.state, item.attempts, item.last_error) == ("delivered", 1, None)
    assert item.payload_sealed == b""  # delivered: the sealed copy is erased
    with ctx.db() as s:
        ref = s.scalars(select(LaporReference)).one()
    assert (ref.tracking_number, ref.origin) == ("LAPOR-00001", "delivered")
    delivered = [e for e in audit_since(ctx, seq) if e.action == "lapor.deliver"]
    assert [e.outcome for e in delivered] == ["allowed"]
    assert TOKEN not in delivered[0].details and TITLE not in delivered[0].details
    # Delivered once: another run sends nothing.
    jobs.run_all(ctx)
    assert len(stub.posts(PATH)) == 1


def test_retry_after_500_waits_for_the_backoff_and_keeps_the_key(
        ctx: Context, team: Any, stub: LaporStub, clock: Clock) -> None:
    _forward(ctx, team)
    stub.failures = ["500", "500"]
    connector.deliver_due(ctx)
    [item] = _items(ctx)
    assert (item.state, item.attempts, item.last_error) == ("pending", 1, "http_5xx")
    first_retry = item.next_attempt_at
    assert first_retry is not None
    # Not due yet: nothing is sent.
    connector.deliver_due(ctx)
    assert len(stub.posts(PATH)) == 1
    clock.advance(seconds=61)
    connector.deliver_due(ctx)
    [item] = _items(ctx)
    assert (item.attempts, item.last_error) == (2, "http_5xx")
    # Exponential: 60 s after the first failure, 120 s after the second.
    assert item.next_attempt_at is not None
    gap = item.next_attempt_at.replace(tzinfo=None) - clock().replace(tzinfo=None)
    assert gap == timedelta(seconds=120)
    clock.advance(seconds=121)
    connector.deliver_due(ctx)
    [item] = _items(ctx)
    assert (item.state, item.attempts, item.last_error) == ("delivered", 3, None)
    keys = {p.headers["Idempotency-Key"] for p in stub.posts(PATH)}
    assert keys == {item.idempotency_key} and len(stub.posts(PATH)) == 3
    assert len(stub.stored) == 1


def test_dropped_connection_after_storing_leaves_no_duplicate(
        ctx: Context, team: Any, stub: LaporStub, clock: Clock) -> None:
    _forward(ctx, team)
    stub.failures = ["drop_after"]
    report = connector.deliver_due(ctx)
    assert report.retried == 1
    [item] = _items(ctx)
    assert (item.state, item.last_error) == ("pending", "connection")
    assert len(stub.stored) == 1  # LAPOR! has it; we did not hear back
    clock.advance(seconds=61)
    connector.deliver_due(ctx)
    [item] = _items(ctx)
    assert item.state == "delivered"
    assert len(stub.posts(PATH)) == 2 and len(stub.stored) == 1
    with ctx.db() as s:
        assert s.scalars(select(LaporReference.tracking_number)).all() == ["LAPOR-00001"]


def test_dropped_connection_before_storing_is_retried(ctx: Context, team: Any, stub: LaporStub,
                                                      clock: Clock) -> None:
    _forward(ctx, team)
    stub.failures = ["drop_before"]
    connector.deliver_due(ctx)
    assert stub.stored == {}
    clock.advance(seconds=61)
    connector.deliver_due(ctx)
    assert len(stub.stored) == 1 and _items(ctx)[0].state == "delivered"


def test_backoff_is_capped_and_attempts_end_in_failed(ctx: Context, team: Any, stub: LaporStub,
                                                      clock: Clock) -> None:
    _forward(ctx, team)
    stub.failures = ["500"] * 10
    gaps = []
    for _ in range(4):
        connector.deliver_due(ctx)
        [item] = _items(ctx)
        if item.next_attempt_at is not None:
            gaps.append((item.next_attempt_at.replace(tzinfo=None)
                         - clock().replace(tzinfo=None)).total_seconds())
        clock.advance(seconds=400)
    assert gaps == [60, 120, 240]  # the fourth would be 480, but attempts stop at 4
    [item] = _items(ctx)
    assert (item.state, item.attempts, item.next_attempt_at) == ("failed", 4, None)
    connector.deliver_due(ctx)
    assert len(stub.posts(PATH)) == 4


def test_import_keeps_tracking_number_and_is_idempotent(ctx: Context, team: Any,
                                                        stub: LaporStub) -> None:
    stub.incoming = {"laporan": [{
        "nomor_tracking": "LAPOR-IN-77", "judul": "Lampu jalan mati", "isi": "Sudah 2 minggu.",
        "kategori": "Infrastruktur", "lokasi": "Jl. Merdeka", "tanggal": "2026-02-27",
        "kanal": "lapor.go.id", "jenis": "pengaduan", "pelapor": None}]}
    seq = last_seq(ctx)
    counts = connector.run(ctx)
    assert counts["lapor_imported"] == 1
    with ctx.db() as s:
        ref = s.scalars(select(LaporReference)).one()
        case = s.get_one(Case, ref.case_id)
        assert (ref.tracking_number, ref.origin) == ("LAPOR-IN-77", "imported")
        assert (case.kind, case.channel, case.state) == ("complaint", "api", "received")
    assert [stub_request.headers["Authorization"] for stub_request in stub.requests
            if stub_request.method == "GET"] == [f"Bearer {TOKEN}"]
    actions = [(e.action, e.case_number) for e in audit_since(ctx, seq)]
    assert ("lapor.import", case.case_number) in actions
    # The verifier reads it like any report.
    verifier = team["verifikator"]
    service.state_purpose(ctx, verifier, case.case_number, "Verifikasi laporan LAPOR!")
    view = service.view_case(ctx, verifier, case.case_number)
    assert view.report["title"] == "Lampu jalan mati" and view.report["what"] == "Sudah 2 minggu."
    # A second pull (or the same file again) creates nothing.
    assert connector.run(ctx)["lapor_imported"] == 0
    with ctx.db() as s:
        assert len(s.scalars(select(Case)).all()) == 1


def test_cli_import_reads_a_file(ctx: Context, team: Any, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from wbs import cli

    path = tmp_path / "lapor.json"
    path.write_text(json.dumps([{
        "nomor_tracking": "LAPOR-FILE-1", "judul": "Pungli KTP", "isi": "Diminta Rp 50.000.",
        "jenis": "pengaduan", "pelapor": {"nama": IDENTITY_CANARY, "telepon": "0812"}}]))
    for name, value in {"WBS_DATABASE_URL": ctx.settings.database_url,
                        "WBS_KEYS_DIR": str(ctx.settings.keys_dir),
                        "WBS_DATA_DIR": str(ctx.settings.data_dir),
                        "WBS_BASE_URL": ctx.settings.base_url,
                        "WBS_ENV": "development"}.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["lapor", "import", str(path)]) == 0
    assert "imported=1 skipped=0" in capsys.readouterr().out
    assert cli.main(["lapor", "import", str(path)]) == 0
    assert "imported=0 skipped=1" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"judul": "tanpa nomor", "isi": "x"}]))
    assert cli.main(["lapor", "import", str(bad)]) == 2
    assert "nomor_tracking" in capsys.readouterr().err
    with ctx.db() as s:
        [case] = s.scalars(select(Case)).all()
        # The reporter's identity from LAPOR! is sealed like any other, never in clear.
        assert case.identity_provided and IDENTITY_CANARY.encode() not in case.identity_sealed


def test_status_changes_of_an_imported_case_flow_back(ctx: Context, team: Any,
                                                      stub: LaporStub) -> None:
    stub.incoming = {"laporan": [{"nomor_tracking": "LAPOR-IN-9", "judul": "Sampah",
                                  "isi": "Tidak diangkut.", "jenis": "pengaduan"}]}
    connector.run(ctx)
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()
    dispose(ctx, team["verifikator"], number)
    routing.start_processing(ctx, team["penghubung.kesehatan"], number)
    assert [i.kind for i in _items(ctx)] == ["status", "status"]
    connector.run(ctx)
    posts = stub.posts(PATH + "/status")
    assert [json.loads(p.body)["status"] for p in posts] == [
        "Terdisposisi Belum Ditindaklanjuti", "Terdisposisi Sedang Diproses"]
    for post in posts:
        body = json.loads(post.body)
        assert body["nomor_tracking"] == "LAPOR-IN-9" and body["id_eksternal"] == number
        assert set(body) == {"skema", "nomor_tracking", "id_eksternal", "status", "tanggal"}


def test_status_of_a_delivered_case_waits_for_its_document(ctx: Context, team: Any,
                                                           stub: LaporStub,
                                                           clock: Clock) -> None:
    ctx.settings = replace(ctx.settings, lapor_every_complaint=True)
    number = _complaint(ctx)
    dispose(ctx, team["verifikator"], number)
    assert [i.kind for i in _items(ctx)] == ["case", "status"]
    # The reporter's document waits for the batch time; the staff act's status waits for it.
    connector.deliver_due(ctx)
    assert stub.requests == []
    clock.advance(hours=4)
    stub.failures = ["500"]
    connector.deliver_due(ctx)
    # The case document failed: its status change was not sent before it.
    assert [p.path for p in stub.requests] == [PATH]
    assert [i.state for i in _items(ctx)] == ["pending", "pending"]
    clock.advance(seconds=61)
    connector.deliver_due(ctx)
    assert [p.path for p in stub.requests] == [PATH, PATH, PATH + "/status"]
    assert json.loads(stub.requests[-1].body)["nomor_tracking"] == "LAPOR-00001"


def test_every_complaint_setting_queues_complaints_only(ctx: Context, team: Any) -> None:
    _complaint(ctx)
    assert _items(ctx) == []  # off by default
    ctx.settings = replace(ctx.settings, lapor_every_complaint=True)
    _complaint(ctx)
    file_report(ctx, kind=ReportKind.WHISTLEBLOWING)
    file_report(ctx, kind=ReportKind.ASPIRATION)
    [item] = _items(ctx)
    assert item.kind == "case"
    # Filed by a reporter at 09:00 WIB: held until the 12:00 WIB batch (05:00 UTC), so neither
    # the row nor the delivery places the reporter within the day (DESIGN §4).
    assert item.next_attempt_at is not None
    assert item.next_attempt_at.replace(tzinfo=None) == datetime(2026, 3, 2, 5, 0)


@pytest.mark.parametrize(("approved", "consented"),
                         [(False, False), (True, False), (False, True), (True, True)])
def test_identity_only_with_approved_disclosure_and_consent(
        ctx: Context, team: Any, stub: LaporStub, approved: bool, consented: bool) -> None:
    number = _complaint(ctx)
    with ctx.db.begin() as s:
        case = s.scalars(select(Case).where(Case.case_number == number)).one()
        outbox.enqueue_case(s, ctx, case, {"title": TITLE, "what": CONTENT}, "sp4n_lapor",
                            identity=Reporter(name=IDENTITY_CANARY, phone="0812-CANARY"),
                            disclosure_approved=approved, reporter_consented=consented)
    connector.deliver_due(ctx)
    [post] = stub.posts(PATH)
    both = approved and consented
    assert (IDENTITY_CANARY.encode() in post.body) is both
    assert (b"0812-CANARY" in post.body) is both
    assert json.loads(post.body)["anonim"] is (not both)


def test_forwarding_never_sends_the_identity(ctx: Context, team: Any, stub: LaporStub,
                                             clock: Clock) -> None:
    ctx.settings = replace(ctx.settings, lapor_every_complaint=True)
    number = _complaint(ctx)  # every-complaint copy, confidential reporter
    routing.forward_external(ctx, team["verifikator"], number, "other_agency", REASON)
    ctx.settings = replace(ctx.settings, lapor_every_complaint=False)
    routing.forward_external(ctx, team["verifikator"], _complaint(ctx), "sp4n_lapor", REASON)
    clock.advance(hours=4)
    jobs.run_all(ctx)
    # LAPOR! had the copy: the forward is a status change of it ("Bukan Wewenang").
    assert len(stub.posts(PATH)) == 2
    [status] = stub.posts(PATH + "/status")
    assert json.loads(status.body)["status"] == "Bukan Wewenang"
    for request in stub.requests:
        assert IDENTITY_CANARY.encode() not in request.body
        assert b"0812-CANARY" not in request.body


def test_outbox_is_sealed_at_rest(ctx: Context, team: Any) -> None:
    _forward(ctx, team)
    for item in _items(ctx):
        assert TITLE.encode() not in item.payload_sealed
        assert CONTENT.encode() not in item.payload_sealed
    url = ctx.settings.database_url
    if url.startswith("sqlite:///"):
        ctx.engine.dispose()
        raw = b"".join(p.read_bytes() for p in Path(url.removeprefix("sqlite:///")).parent.glob(
            "wbs.sqlite3*"))
        assert TITLE.encode() not in raw and TOKEN.encode() not in raw
        assert IDENTITY_CANARY.encode() not in raw


def test_whistleblowing_never_enters_the_outbox(ctx: Context, team: Any) -> None:
    filed = file_report(ctx, kind=ReportKind.WHISTLEBLOWING)
    with ctx.db.begin() as s:
        case = s.scalars(select(Case).where(Case.case_number == filed.number)).one()
        with pytest.raises(outbox.OutboxRefused):
            outbox.enqueue_case(s, ctx, case, {}, "sp4n_lapor")


def test_token_is_a_secret_and_endpoint_must_be_https(ctx: Context, team: Any) -> None:
    assert TOKEN not in repr(ctx.settings) and TOKEN not in str(ctx.settings)
    for bad in ("http://lapor.go.id/api", "ftp://127.0.0.1/x", "file:///etc/passwd", "lapor"):
        with pytest.raises(connector.EndpointRefused):
            connector.check_endpoint(bad)
    assert connector.check_endpoint("https://api.lapor.go.id/v1/") == "https://api.lapor.go.id/v1"


def test_format_refuses_a_bad_batch_whole() -> None:
    good = {"nomor_tracking": "A-1", "judul": "t", "isi": "c"}
    assert len(lapor_format.decode_incoming(json.dumps([good]).encode())) == 1
    for bad in (b"{", b'"x"', json.dumps([good, {"judul": "t"}]).encode(),
                json.dumps([{**good, "jenis": "wbs"}]).encode()):
        with pytest.raises(lapor_format.FormatError):
            lapor_format.decode_incoming(bad)


def test_import_of_a_bad_file_stores_nothing(ctx: Context, team: Any) -> None:
    with pytest.raises(lapor_format.FormatError):
        lapor_import.import_documents(ctx, b'[{"nomor_tracking": "X"}]', actor="t")
    with ctx.db() as s:
        assert s.scalars(select(Case)).all() == []


def test_a_bad_pull_or_endpoint_does_not_stop_the_jobs(ctx: Context, team: Any,
                                                       stub: LaporStub) -> None:
    stub.incoming = {"laporan": [{"judul": "tanpa nomor tracking", "isi": "x"}]}
    seq = last_seq(ctx)
    counts = jobs.run_all(ctx)
    assert counts["lapor_failed"] == 1 and counts["lapor_imported"] == 0
    failed = [e for e in audit_since(ctx, seq) if e.action == "lapor.import"]
    assert [e.outcome for e in failed] == ["failed"]
    ctx.settings = replace(ctx.settings, lapor_endpoint="http://lapor.example.org/api")
    counts = jobs.run_all(ctx)
    assert counts["lapor_failed"] == 1 and "audit_tree_size" in counts
    assert all(r.method == "GET" for r in stub.requests) and len(stub.requests) == 1


def test_status_caused_by_the_reporter_waits_for_the_batch_time(ctx: Context, team: Any,
                                                                stub: LaporStub) -> None:
    from tests.functional.workflow_helpers import ANSWER, reporter_access
    from wbs.cases.workflow import Action

    ctx.settings = replace(ctx.settings, lapor_every_complaint=True)
    filed = file_report(ctx)
    dispose(ctx, team["verifikator"], filed.number)
    routing.start_processing(ctx, team["penghubung.kesehatan"], filed.number)
    routing.answer(ctx, team["penghubung.kesehatan"], filed.number, ANSWER)
    routing.reporter_act(ctx, reporter_access(ctx, filed.code), Action.REPORTER_ACCEPTS)
    items = _items(ctx)
    assert [i.kind for i in items] == ["case", "status", "status", "status", "status"]
    staff_caused, reporter_caused = items[1:4], items[4]
    assert all(i.next_attempt_at is None for i in staff_caused)
    # 09:00 WIB: the reporter's acceptance goes out with the 12:00 WIB batch, never at once.
    assert reporter_caused.next_attempt_at is not None
    assert reporter_caused.next_attempt_at.replace(tzinfo=None) == datetime(2026, 3, 2, 5, 0)


def test_a_redirect_is_an_error_not_a_new_destination(ctx: Context, team: Any,
                                                      stub: LaporStub) -> None:
    _forward(ctx, team)
    stub.failures = ["redirect"]
    connector.deliver_due(ctx)
    [item] = _items(ctx)
    assert (item.state, item.last_error) == ("pending", "http_3xx")
    assert len(stub.requests) == 1  # the Location was not followed with the token


def test_overlapping_runs_send_twice_but_settle_once(ctx: Context, team: Any,
                                                     stub: LaporStub) -> None:
    """Two runners that both picked the item (SQLite has no jobs lock) both send it: the key
    keeps one document at LAPOR!, and only the first result is recorded."""
    _forward(ctx, team)
    [item] = _items(ctx)
    first = connector._prepare(ctx, item.id)
    second = connector._prepare(ctx, item.id)
    assert first is not None and second is not None
    report = connector.RunReport()
    for path, key, body, seen in (first, second):
        answer = connector._request(ctx, "POST", path, body, key)
        connector._settle(ctx, item.id, seen, answer, None, report)
    assert len(stub.posts(PATH)) == 2 and len(stub.stored) == 1
    [item] = _items(ctx)
    assert (item.state, item.attempts, report.delivered) == ("delivered", 1, 1)
    with ctx.db() as s:
        assert len(s.scalars(select(LaporReference)).all()) == 1


def test_nothing_sensitive_in_the_logs(ctx: Context, team: Any, stub: LaporStub,
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    _forward(ctx, team)
    stub.failures = ["500", "drop_before"]
    jobs.run_all(ctx)
    ctx.settings = replace(ctx.settings, lapor_endpoint="http://lapor.example.org/x")
    jobs.run_all(ctx)
    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "lapor_endpoint_refused" in text  # the logs were captured
    for secret in (TOKEN, TITLE, CONTENT, IDENTITY_CANARY):
        assert secret not in text


def test_a_tracking_number_given_twice_is_kept_once(ctx: Context, team: Any,
                                                    stub: LaporStub) -> None:
    first, second = _forward(ctx, team), _forward(ctx, team)
    stub.fixed_tracking = "LAPOR-SAME"
    assert connector.deliver_due(ctx).delivered == 2
    assert [i.state for i in _items(ctx)] == ["delivered", "delivered"]
    with ctx.db() as s:
        refs = s.scalars(select(LaporReference)).all()
        [case_id] = [r.case_id for r in refs]
        assert s.get_one(Case, case_id).case_number == first != second


def test_question_and_answer_of_an_imported_case_reach_lapor(ctx: Context, team: Any,
                                                            stub: LaporStub,
                                                            clock: Clock) -> None:
    from tests.functional.workflow_helpers import ANSWER, QUESTION

    stub.incoming = {"laporan": [{"nomor_tracking": "LAPOR-QA-1", "judul": "Sampah",
                                  "isi": "Tidak diangkut.", "jenis": "pengaduan"}]}
    connector.run(ctx)
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()
    verifier, liaison = team["verifikator"], team["penghubung.kesehatan"]
    routing.request_info(ctx, verifier, number, QUESTION)
    connector.run(ctx)
    with ctx.db.begin() as s:  # the data arrives: a reporter's act, held for the batch time
        case = s.scalars(select(Case).where(Case.case_number == number)).one()
        routing.reporter_supplied_info(s, ctx, case)
    dispose(ctx, verifier, number)
    routing.start_processing(ctx, liaison, number)
    routing.answer(ctx, liaison, number, ANSWER)
    connector.run(ctx)
    # The held status is not overtaken by the later ones: LAPOR! would end on a wrong status.
    assert len(stub.posts(PATH + "/status")) == 1
    clock.advance(hours=4)
    connector.run(ctx)
    bodies = [json.loads(p.body) for p in stub.posts(PATH + "/status")]
    assert [(b["status"], b.get("tindak_lanjut")) for b in bodies] == [
        ("Tertunda", QUESTION), ("Belum Terverifikasi", None),
        ("Terdisposisi Belum Ditindaklanjuti", None), ("Terdisposisi Sedang Diproses", None),
        ("Terdisposisi Sedang Diproses", ANSWER)]
    assert all(b["nomor_tracking"] == "LAPOR-QA-1" for b in bodies)


def test_shredding_a_case_erases_its_outbox_documents(ctx: Context, team: Any,
                                                      stub: LaporStub) -> None:
    """Outbox documents are sealed to the connector's key, not to K: retention's shredding
    (issue 13) must erase them itself, and an unsent one is never sent afterwards."""
    from wbs.ops import retention

    number = _forward(ctx, team)
    with ctx.db.begin() as s:
        case = s.scalars(select(Case).where(Case.case_number == number)).one()
        retention._shred(s, ctx, case, ctx.today())
    [item] = _items(ctx)
    assert (item.payload_sealed, item.state, item.last_error) == (b"", "failed", "shredded")
    connector.deliver_due(ctx)
    assert stub.requests == []
