"""Demo units and users for `make run` (WBS_ENV=development only).

Passwords are random per instance and written, with the TOTP secrets, to
var/demo-credentials.json (mode 0600): a demo that shipped fixed passwords would be a demo that
someone deploys.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from wbs import accounts, units
from wbs.context import Context
from wbs.enums import CaseState, Channel, Classification, ReportKind, Role, UnitKind
from wbs.models import Case, CaseEvent, CaseKeyWrap, CaseTask, Deadline, Unit

UNITS = [
    ("inspektorat", "Inspektorat Daerah (APIP)", UnitKind.APIP),
    ("tim-pengelola", "Tim Pengelola Pengaduan (Diskominfo)", UnitKind.VERIFIER_TEAM),
    ("kustodian", "Kustodian Identitas Pelapor", UnitKind.CUSTODIAN),
    ("dinas-pendidikan", "Dinas Pendidikan", UnitKind.AGENCY),
    ("dinas-kesehatan", "Dinas Kesehatan", UnitKind.AGENCY),
    ("dinas-pupr", "Dinas Pekerjaan Umum dan Penataan Ruang", UnitKind.AGENCY),
    ("bumd-air-minum", "Perumda Air Minum", UnitKind.BUMD),
    ("pimpinan", "Pimpinan Daerah", UnitKind.LEADERSHIP),
    ("sekretariat", "Sekretariat Daerah (administrasi sistem)", UnitKind.ADMINISTRATION),
]

USERS: list[tuple[str, str, Role, str | None]] = [
    ("admin", "Administrator Sistem", Role.ADMINISTRATOR, "sekretariat"),
    ("verifikator", "Verifikator Tim Pengelola", Role.VERIFIER, "tim-pengelola"),
    ("penghubung.pendidikan", "Pejabat Penghubung Dinas Pendidikan", Role.LIAISON,
     "dinas-pendidikan"),
    ("penghubung.kesehatan", "Pejabat Penghubung Dinas Kesehatan", Role.LIAISON,
     "dinas-kesehatan"),
    ("investigator", "Auditor Inspektorat", Role.INVESTIGATOR, "inspektorat"),
    ("investigator2", "Auditor Inspektorat (2)", Role.INVESTIGATOR, "inspektorat"),
    ("inspektur", "Inspektur Daerah", Role.CUSTODIAN, "kustodian"),
    ("pimpinan", "Sekretaris Daerah", Role.LEADERSHIP, "pimpinan"),
    ("auditor", "Auditor Sistem", Role.AUDITOR, None),
]


def load(ctx: Context) -> dict[str, dict[str, str]]:
    """Create the demo data; returns username → {password, totp_secret, role}, or {} if present."""
    created: dict[str, dict[str, str]] = {}
    with ctx.db.begin() as session:
        if session.scalars(select(Unit).where(Unit.slug == "inspektorat")).first():
            return {}
        unit_keys: dict[str, bytes] = {}
        by_slug: dict[str, Unit] = {}
        for slug, name, kind in UNITS:
            unit, private = units.create_unit(session, ctx, slug=slug, name=name, kind=kind,
                                              actor="demo")
            by_slug[slug], unit_keys[slug] = unit, private
        for username, display, role, member_of in USERS:
            password = "demo-" + secrets.token_urlsafe(12)
            _, totp = accounts.create_user(
                session, ctx, username=username, display_name=display, role=role,
                password=password, unit=by_slug.get(member_of or ""),
                unit_private_key=unit_keys.get(member_of or ""), actor="demo")
            created[username] = {"password": password, "totp_secret": totp, "role": role.value,
                                 "unit": member_of or ""}
    return created


# --- bulk cases (`wbs demo --cases N`) ------------------------------------------------------
# Metadata as the real flow leaves it (kinds, channels, states, units, key wraps, tasks,
# timeline, deadlines open, met and overdue), for the case list, the statistics and `make
# bench`. Every bulk case carries the same sealed blob, which no key opens: sealing a million
# reports would take most of the time and tell a benchmark nothing. No audit rows are written:
# the log is a signed Merkle tree that cannot be back-filled with acts that never happened.
BULK_SEALED = b"wbs-bulk-demo: a fixed blob; no key opens it"
BULK_BATCH = 5000
_KINDS = [(ReportKind.COMPLAINT, 60), (ReportKind.WHISTLEBLOWING, 15),
          (ReportKind.INFORMATION_REQUEST, 15), (ReportKind.ASPIRATION, 10)]
_CHANNELS = [(Channel.WEB, 55), (Channel.API, 5), (Channel.LETTER, 8),
             (Channel.FACE_TO_FACE, 8), (Channel.TELEPHONE, 6), (Channel.WHATSAPP, 10),
             (Channel.SMS, 3), (Channel.SOCIAL_MEDIA, 3), (Channel.COMPLAINT_BOX, 2)]
_STATES = [(CaseState.RECEIVED, 6), (CaseState.NEEDS_INFO, 4), (CaseState.VERIFIED, 8),
           (CaseState.IN_PROCESS, 17), (CaseState.ANSWERED, 8), (CaseState.CLOSED, 40),
           (CaseState.ARCHIVED, 12), (CaseState.FORWARDED, 5)]
_DISPOSED = {CaseState.VERIFIED, CaseState.IN_PROCESS, CaseState.ANSWERED, CaseState.CLOSED}
_APIP_OUTCOMES = ["not_proven", "administrative", "referral_kpk", "referral_kejaksaan",
                  "referral_polri"]


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


class _Ids:
    """Row ids for the per-case tables (`wbs.row_ids`): random, unique, below 2**30."""

    def __init__(self, rng: random.Random, taken: set[int]) -> None:
        self.rng, self.taken = rng, taken

    def __call__(self) -> int:
        while True:
            candidate = 1 + self.rng.getrandbits(30) % (2**30 - 1)
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate


def _case_rows(rng: random.Random, ids: _Ids, cid: int, today: date,
               units: dict[str, int], agencies: list[int]) -> dict[str, list[dict[str, Any]]]:
    kind = _pick(rng, _KINDS)
    age = int(rng.expovariate(1 / 240)) % 1460  # more recent cases than old ones
    received = today - timedelta(days=age)
    state = CaseState.RECEIVED if age < 2 else _pick(rng, _STATES)
    whistleblowing = kind is ReportKind.WHISTLEBLOWING
    receiving = units["inspektorat" if whistleblowing else "tim-pengelola"]
    reported = rng.choice(agencies) if rng.random() < 0.7 else None
    verified_on = received + timedelta(days=rng.randint(1, 4))
    disposed = state in _DISPOSED
    # A case goes to a unit other than the one it reports on (that unit never sees it).
    agency = rng.choice([a for a in agencies if a != reported] or agencies)
    resolution = rng.choice((5, 14, 60)) if disposed else None
    outcome = None
    if state is CaseState.CLOSED and whistleblowing:
        outcome = rng.choice(_APIP_OUTCOMES)
    elif state is CaseState.FORWARDED:
        outcome = "sp4n-lapor"
    case = {"id": cid, "case_number": f"WBS-{received.year}-{cid:06d}",
            "lookup_hash": rng.randbytes(32), "reporter_salt": rng.randbytes(16),
            "kind": kind.value, "channel": _pick(rng, _CHANNELS).value, "state": state.value,
            "received_on": received, "receiving_unit_id": receiving,
            "reported_unit_id": reported, "at_apip": whistleblowing,
            "classification": (rng.choice(list(Classification)).value
                               if disposed or state is CaseState.ARCHIVED else None),
            "resolution_days": resolution, "identity_provided": rng.random() < 0.3,
            "outcome": outcome, "report_sealed": BULK_SEALED,
            "report_digest": hashlib.sha256(BULK_SEALED).digest(), "identity_sealed": None,
            "code_needs_replacing": False}
    wraps = [{"id": ids(), "case_id": cid, "purpose": purpose, "recipient_kind": who,
              "recipient_id": to, "wrapped": BULK_SEALED, "expires_at": None}
             for purpose, who, to in (("content", "unit", receiving), ("content", "reporter", 0),
                                      ("identity", "unit", units["kustodian"]),
                                      ("identity", "reporter", 0))]
    events = [{"id": ids(), "case_id": cid, "state": CaseState.RECEIVED.value, "on": received,
               "note_key": ""}]
    verification_met = None if state in (CaseState.RECEIVED, CaseState.NEEDS_INFO) else (
        verified_on)
    dues = [{"id": ids(), "case_id": cid, "task_id": None, "kind": "verification",
             "rule_key": "verification", "start_on": received,
             "due_on": received + timedelta(days=5), "remind_on": None,
             "met_on": verification_met, "reminded_on": None, "escalated_on": None,
             "enforced_on": None}]
    tasks: list[dict[str, Any]] = []
    if state is not CaseState.RECEIVED:
        events.append({"id": ids(), "case_id": cid, "state": state.value, "on": verified_on,
                       "note_key": ""})
    if disposed and resolution is not None:
        task_state = {CaseState.VERIFIED: "open", CaseState.IN_PROCESS: "in_process"}.get(
            state, "answered")
        answered = verified_on + timedelta(days=rng.randint(1, resolution + 10))
        task = {"case_id": cid, "unit_id": units["inspektorat"] if whistleblowing else agency,
                "state": task_state, "resolution_days": resolution, "assigned_on": verified_on,
                "answered_on": answered if task_state == "answered" else None,
                "suggested_unit_id": None}
        tasks.append(task)
        if not whistleblowing:
            wraps.append({"id": ids(), "case_id": cid, "purpose": "content",
                          "recipient_kind": "unit", "recipient_id": agency,
                          "wrapped": BULK_SEALED, "expires_at": None})
        dues.append({"id": ids(), "case_id": cid, "task_id": None, "kind": "answer",
                     "rule_key": f"answer_{resolution}", "start_on": verified_on,
                     "due_on": verified_on + timedelta(days=resolution), "remind_on": None,
                     "met_on": answered if task_state == "answered" else None,
                     "reminded_on": None, "escalated_on": None, "enforced_on": None})
    return {"cases": [case], "wraps": wraps, "events": events, "deadlines": dues,
            "tasks": tasks}


def _copy(conn: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY: several times the rate of multi-row INSERTs for a million cases."""
    columns = list(rows[0])
    quoted = ", ".join(f'"{c}"' for c in columns)
    with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(
            f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def bulk(engine: Engine, n: int, *, today: date | None = None, seed: int = 12,
         progress: Callable[[int, int], None] | None = None) -> int:
    """Add `n` bulk cases to a database holding the demo units (`load`); returns n.

    Plain multi-row INSERTs in batches of `BULK_BATCH` cases, one transaction each (so a
    stopped run keeps what it committed). `progress(done, n)` is called after each batch.
    Deterministic for a given seed and starting point; safe to run twice (ids continue)."""
    day = today or date.today()
    with engine.begin() as conn:
        units = dict(conn.execute(select(Unit.slug, Unit.id)).all())
        missing = {"inspektorat", "tim-pengelola", "kustodian"} - set(units)
        if missing:
            raise LookupError("load the demo units first (`wbs demo`)")
        agencies = [u for (u,) in conn.execute(select(Unit.id).where(
            Unit.kind.in_([UnitKind.AGENCY.value, UnitKind.BUMD.value])))]
        next_case = (conn.scalar(select(func.max(Case.id))) or 0) + 1
        next_task = (conn.scalar(select(func.max(CaseTask.id))) or 0) + 1
        taken: set[int] = set()
        for table in (CaseKeyWrap.__table__, CaseEvent.__table__, Deadline.__table__):
            taken.update(conn.scalars(select(table.c.id)))
    # Seeded by where this run starts too: a second run draws other codes' hashes and salts.
    rng = random.Random(f"{seed}:{next_case}")  # noqa: S311 -- demo data: reproducible
    ids = _Ids(rng, taken)
    done = 0
    analyze_at = BULK_BATCH
    while done < n:
        batch: dict[str, list[dict[str, Any]]] = {
            "cases": [], "wraps": [], "events": [], "deadlines": [], "tasks": []}
        for _ in range(min(BULK_BATCH, n - done)):
            for name, rows in _case_rows(rng, ids, next_case, day, units, agencies).items():
                batch[name].extend(rows)
            next_case += 1
        for task in batch["tasks"]:
            task["id"] = next_task
            next_task += 1
        with engine.begin() as conn:
            # Wraps last: their insert trigger takes each case's next deadline in one look,
            # where deadlines added after the wraps would update every wrap once per deadline
            # (a million cases took 45 minutes instead of about 10).
            tables: list[tuple[str, type[Any]]] = [
                ("cases", Case), ("events", CaseEvent), ("tasks", CaseTask),
                ("deadlines", Deadline), ("wraps", CaseKeyWrap)]
            for name, model in tables:
                if not batch[name]:
                    continue
                if engine.dialect.name == "postgresql":
                    _copy(conn, model.__tablename__, batch[name])
                else:
                    conn.execute(insert(model), batch[name])
        done += len(batch["cases"])
        if engine.dialect.name == "postgresql" and done >= analyze_at:
            # The triggers' statements keep the plans made when their tables were small; with
            # autovacuum off or behind, a plan made on a near-empty table scans it whole for
            # every row, and the build slows down as it grows (75k cases: 2,300 -> 500 a
            # second). Fresh statistics each time the data doubles make them plan again.
            analyze_at *= 2
            with engine.begin() as conn:
                conn.execute(text("ANALYZE cases, case_events, case_tasks, deadlines, "
                                  "case_key_wraps"))
        if progress is not None:
            progress(done, n)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            # The rows carried their own ids: move the sequences past them.
            conn.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), "
                              "(SELECT max(id) FROM cases))"))
            conn.execute(text("SELECT setval(pg_get_serial_sequence('case_tasks', 'id'), "
                              "(SELECT max(id) FROM case_tasks))"))
            conn.execute(text("ANALYZE"))
    return n
