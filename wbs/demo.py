"""Demo units and users for `make run` (WBS_ENV=development only).

Passwords are random per instance and written, with the TOTP secrets, to
var/demo-credentials.json (mode 0600): a demo that shipped fixed passwords would be a demo that
someone deploys.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from wbs import accounts, units
from wbs.context import Context
from wbs.enums import Role, UnitKind
from wbs.models import Unit

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
