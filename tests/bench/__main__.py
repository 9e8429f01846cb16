"""`make bench`: performance figures on this machine (printed, never asserted), also written
to bench-results.json (git-ignored).

- the crypto and service figures on a throw-away SQLite instance;
- the case list (issue 12) over WBS_BENCH_CASES (default 100,000) bulk cases on SQLite, and
  on PostgreSQL when WBS_BENCH_DATABASE_URL names a server (e.g.
  postgresql+psycopg://postgres@127.0.0.1:5432/test), plus 1,000,000 cases there with
  WBS_BENCH_MILLION=1 (minutes to build; WBS_BENCH_REUSE=1 keeps a built one);
- submissions/s, status checks/s and RSS per worker over HTTP against `wbs serve --workers 2`.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.bench import caselist, serving, throughput
from wbs import demo, instance, migrate
from wbs.cases import intake, reporter
from wbs.context import Context
from wbs.crypto.passwords import PRODUCTION_PARAMS, TEST_PARAMS, PasswordKDF
from wbs.db import make_engine, make_sessionmaker
from wbs.enums import Channel, ReportKind
from wbs.settings import Settings

RESULTS = Path("bench-results.json")
SERVICES: dict[str, dict[str, float]] = {}


def timed(label: str, runs: int, func: Callable[[], object]) -> None:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"{label:58} median {statistics.median(samples):8.2f} ms   p95 {p95:8.2f} ms"
          f"   ({runs} runs)", flush=True)
    SERVICES[label] = {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(p95, 2)}


def main() -> int:
    results: dict[str, Any] = {"cores": os.cpu_count(), "load_average_start": os.getloadavg()}
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()}", flush=True)
    try:
        _run(results)
    finally:
        results["load_average_end"] = os.getloadavg()
        RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"figures written to {RESULTS}; load average {os.getloadavg()}")
    return 0


def _run(results: dict[str, Any]) -> None:
    services(results)
    pg = os.environ.get("WBS_BENCH_DATABASE_URL")
    n = int(os.environ.get("WBS_BENCH_CASES", "100000"))
    results["case_list"] = [caselist.run(None, n)]
    if pg:
        results["case_list"].append(caselist.run(pg, n))
        if os.environ.get("WBS_BENCH_MILLION") == "1":
            results["case_list"].append(caselist.run(pg, 1_000_000))
            # Issue 11 done-when 6: the statistics over that million (target 500 ms).
            from tests.bench import statistics as stats_bench

            stats_bench.run_pg(caselist.database_url(pg, 1_000_000), timed)
    print(f"throughput (real `wbs serve --workers 2`), load average {os.getloadavg()}:",
          flush=True)
    results["throughput"] = throughput.run(Path(tempfile.mkdtemp(prefix="wbs-bench-tp-")))
    print(f"serving (real `wbs serve`), load average {os.getloadavg()[0]:.2f}:")
    figures = serving.latency_two_workers(Path(tempfile.mkdtemp(prefix="wbs-bench-serve-")))
    if os.environ.get("WBS_BENCH_UPLOADS", "1") == "1":
        figures.update(serving.upload_memory(Path(tempfile.mkdtemp(prefix="wbs-bench-upload-"))))
    results["serving"] = figures


def services(results: dict[str, Any]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="wbs-bench-"))
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    settings = replace(Settings(), env="development", database_url=url, data_dir=tmp,
                       keys_dir=tmp / "keys", argon2=TEST_PARAMS)
    instance.create_keys(settings.keys_dir)
    migrate.upgrade(url)
    engine = make_engine(url)
    ctx = Context(settings=settings, keys=instance.load_keys(settings.keys_dir), engine=engine,
                  db=make_sessionmaker(engine), kdf=PasswordKDF(TEST_PARAMS))
    print(f"services on {engine.dialect.name}:")

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
    results["services"] = SERVICES
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
