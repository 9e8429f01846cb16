"""`make bench`, case list part (issue 12): page 1, a deep page and the overdue filter over
N bulk cases (`wbs.demo.bulk`), on SQLite or PostgreSQL, p50/p95 per staff role.

On PostgreSQL the data set goes into its own database `wbs_bench_<N>` on the server of
WBS_BENCH_DATABASE_URL; with WBS_BENCH_REUSE=1 a database that already holds it is used as it
is (a million cases take minutes to build). Figures are printed and returned, never asserted.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from wbs import demo, instance, migrate, paging
from wbs.accounts import StaffIdentity
from wbs.cases import listing
from wbs.context import Context
from wbs.crypto.passwords import TEST_PARAMS, PasswordKDF
from wbs.db import make_engine, make_sessionmaker
from wbs.enums import Role
from wbs.models import Case, Unit, User
from wbs.settings import Settings

ROLES = (("verifikator", Role.VERIFIER), ("penghubung.pendidikan", Role.LIAISON),
         ("investigator", Role.INVESTIGATOR))


def percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(p95, 2)}


def timed(label: str, runs: int, func: Callable[[], object]) -> dict[str, float]:
    func()  # warm: plans cached, pages in memory
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    figures = percentiles(samples)
    print(f"  {label:52} p50 {figures['p50_ms']:8.2f} ms   p95 {figures['p95_ms']:8.2f} ms"
          f"   ({runs} runs)", flush=True)
    return figures


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(f"\r  building [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}",
          end="\n" if done >= total else "", file=sys.stderr, flush=True)


def database_url(base_url: str, n: int) -> str:
    """The URL of the bench database of n cases on the server of base_url."""
    return make_url(base_url).set(database=f"wbs_bench_{n}").render_as_string(
        hide_password=False)


def _pg_database(base_url: str, name: str, *, reuse: bool) -> tuple[str, bool]:
    """The URL of a database `name` on the server of base_url; whether it must be built."""
    url = make_url(base_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    target = url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and reuse:
            admin.dispose()
            return target, False
        if exists:
            conn.execute(text(f'DROP DATABASE "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return target, True


def build(url: str | None, n: int) -> tuple[Context, float | None]:
    tmp = Path(tempfile.mkdtemp(prefix="wbs-bench-list-"))
    build_needed = True
    if url is None:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        url, build_needed = _pg_database(url, f"wbs_bench_{n}",
                                         reuse=os.environ.get("WBS_BENCH_REUSE") == "1")
    settings = replace(Settings(), env="development", database_url=url, data_dir=tmp,
                       keys_dir=tmp / "keys", argon2=TEST_PARAMS)
    instance.create_keys(settings.keys_dir)
    migrate.upgrade(url)
    engine = make_engine(url)
    ctx = Context(settings=settings, keys=instance.load_keys(settings.keys_dir), engine=engine,
                  db=make_sessionmaker(engine), kdf=PasswordKDF(TEST_PARAMS))
    with engine.connect() as conn:
        present = conn.scalar(select(func.count()).select_from(Case)) or 0
    seconds = None
    if build_needed or present < n:
        demo.load(ctx)
        started = time.perf_counter()
        demo.bulk(engine, n - present, today=ctx.today(), progress=_progress)
        seconds = time.perf_counter() - started
        if engine.dialect.name == "sqlite":
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
    return ctx, seconds


def _staff(ctx: Context, username: str, role: Role) -> StaffIdentity:
    with ctx.db() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        unit = session.get(Unit, user.unit_id)
    return StaffIdentity(user_id=user.id, username=user.username, display_name="", role=role,
                         unit_id=user.unit_id, unit_slug=unit.slug if unit else None,
                         session_id=0, token=b"\0" * 32, private_key_sealed=b"")


def measure(ctx: Context, n: int, runs: int = 30) -> dict[str, Any]:
    with ctx.db() as session:
        # A key half way down the whole list: page n/100 of a list of n at 50 a page.
        middle = session.execute(select(Case.received_on, Case.id)
                                 .order_by(Case.received_on.desc(), Case.id.desc())
                                 .offset(n // 2).limit(1)).one()
    deep = paging.make_key(middle.received_on, middle.id)
    figures: dict[str, Any] = {}
    for username, role in ROLES:
        staff = _staff(ctx, username, role)
        figures[username] = {
            "page_1": timed(f"{role.value}: page 1 (with the capped count)", runs,
                            lambda s=staff: listing.list_cases(ctx, s)),
            "deep_page": timed(f"{role.value}: a page half way down ({n // 100:,} pages)",
                               runs, lambda s=staff: listing.list_cases(
                                   ctx, s, listing.CaseFilter(after=deep))),
            "overdue": timed(f"{role.value}: overdue filter, page 1 (with count)", runs,
                             lambda s=staff: listing.list_cases(
                                 ctx, s, listing.CaseFilter(overdue=True))),
        }
    return figures


def run(url: str | None, n: int) -> dict[str, Any]:
    ctx, seconds = build(url, n)
    name = ctx.engine.dialect.name
    print(f"case list over {n:,} cases on {name}"
          + (f" (built in {seconds:.0f} s)" if seconds is not None else " (reused)"),
          flush=True)
    result: dict[str, Any] = {"database": name, "cases": n,
                              "build_seconds": None if seconds is None else round(seconds, 1),
                              "load_average": os.getloadavg()}
    result["roles"] = measure(ctx, n)
    result["load_average_after"] = os.getloadavg()
    ctx.engine.dispose()
    return result
