"""`make bench`: performance figures on this machine (printed, never asserted).

Runs against a throw-away instance on SQLite (and PostgreSQL with WBS_BENCH_DATABASE_URL).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from wbs import demo, instance, migrate
from wbs.cases import intake, reporter, service
from wbs.context import Context
from wbs.crypto.passwords import PRODUCTION_PARAMS, TEST_PARAMS, PasswordKDF
from wbs.db import make_engine, make_sessionmaker
from wbs.enums import Channel, ReportKind
from wbs.models import Case, CaseKeyWrap, Deadline, Unit
from wbs.settings import Settings


def timed(label: str, runs: int, func: Callable[[], object]) -> None:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"{label:58} median {statistics.median(samples):8.2f} ms   p95 {p95:8.2f} ms"
          f"   ({runs} runs)")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="wbs-bench-"))
    url = os.environ.get("WBS_BENCH_DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    settings = replace(Settings(), env="development", database_url=url, data_dir=tmp,
                       keys_dir=tmp / "keys", argon2=TEST_PARAMS)
    instance.create_keys(settings.keys_dir)
    migrate.upgrade(url)
    engine = make_engine(url)
    ctx = Context(settings=settings, keys=instance.load_keys(settings.keys_dir), engine=engine,
                  db=make_sessionmaker(engine), kdf=PasswordKDF(TEST_PARAMS))
    print(f"database: {engine.dialect.name}; cores: {os.cpu_count()}")

    kdf = PasswordKDF(PRODUCTION_PARAMS)
    salt = PasswordKDF.new_salt()
    timed("argon2id m=64MiB t=3 p=1, one sign-in derivation", 5,
          lambda: kdf.derive("correct horse battery staple", salt))

    demo.load(ctx)
    report = intake.ReportInput(kind=ReportKind.COMPLAINT, title="Bench", what="x" * 2000,
                                how="y" * 500)
    codes: list[str] = []
    timed("intake.submit (seal, wrap K and I with ML-KEM-768+X25519)", 100,
          lambda: codes.append(intake.submit(ctx, report, [], Channel.API).code))
    timed("reporter.status by code (HMAC lookup; a read: nothing written)", 200,
          lambda: reporter.status(ctx, codes[len(codes) // 2]))
    timed("reporter.access_by_code (HKDF + unwrap K and I)", 200,
          lambda: reporter.access_by_code(ctx, codes[0]))

    # 100,000 cases of metadata for the list screen (contents are never read by the list).
    with ctx.db.begin() as session:
        team = session.scalars(select(Unit).where(Unit.slug == "tim-pengelola")).one()
        start_id = (session.scalar(select(Case.id).order_by(Case.id.desc())) or 0) + 1
    n = 100_000
    t0 = time.perf_counter()
    with ctx.db.begin() as session:
        rows, wraps, dues = [], [], []
        for i in range(n):
            cid = start_id + i
            received = date(2025, 1, 1) + timedelta(days=i % 600)
            rows.append({"id": cid, "case_number": f"WBS-B-{cid:07d}",
                         "lookup_hash": cid.to_bytes(32, "big"), "reporter_salt": b"s" * 16,
                         "kind": "complaint", "channel": "web",
                         "state": ("received", "verified", "in_process", "closed")[i % 4],
                         "received_on": received, "receiving_unit_id": team.id,
                         "at_apip": False, "identity_provided": False,
                         "report_sealed": b"x", "report_digest": b"d" * 32})
            wraps.append({"case_id": cid, "purpose": "content", "recipient_kind": "unit",
                          "recipient_id": team.id, "wrapped": b"w"})
            dues.append({"case_id": cid, "kind": "verification", "rule_key": "verification",
                         "start_on": received, "due_on": received + timedelta(days=5)})
        session.execute(insert(Case), rows)
        session.execute(insert(CaseKeyWrap), wraps)
        session.execute(insert(Deadline), dues)
    label = "bulk insert of 100,000 case rows (+ wraps, deadlines)"
    print(f"{label:58} {time.perf_counter() - t0:8.2f} s")
    from wbs.accounts import StaffIdentity
    from wbs.enums import Role
    from wbs.models import User

    with ctx.db() as session:
        user = session.scalars(select(User).where(User.username == "verifikator")).one()
    staff = StaffIdentity(user_id=user.id, username=user.username, display_name="",
                          role=Role.VERIFIER, unit_id=team.id, unit_slug="tim-pengelola",
                          session_id=0, token=b"\0" * 32, private_key_sealed=b"")
    timed("case list page 1 of 100k (count + 50 rows + next deadline)", 10,
          lambda: service.list_cases(ctx, staff))
    timed("case list, filter overdue, of 100k", 10,
          lambda: service.list_cases(ctx, staff, service.CaseFilter(overdue=True)))
    timed("case list, state=in_process, page 300, of 100k", 10,
          lambda: service.list_cases(ctx, staff, service.CaseFilter(state="in_process",
                                                                     page=300)))

    from tests.bench.statistics import bench_statistics

    bench_statistics(ctx, timed)

    from wbs import audit

    with ctx.db() as session:
        t0 = time.perf_counter()
        result = audit.verify_log(session, ctx.audit_keys.public, ctx.audit_keys.origin,
                                  ctx.audit_keys.key_name)
        elapsed = time.perf_counter() - t0
    print(f"{'audit verify_log':58} {result.tree_size / elapsed:8.0f} entries/s "
          f"({result.tree_size} entries, ok={result.ok})")
    engine.dispose()

    from tests.bench import serving

    print(f"serving (real `wbs serve`), load average {os.getloadavg()[0]:.2f}:")
    figures = serving.latency_two_workers(Path(tempfile.mkdtemp(prefix="wbs-bench-serve-")))
    figures.update(serving.upload_memory(Path(tempfile.mkdtemp(prefix="wbs-bench-upload-"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
