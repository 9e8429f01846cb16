"""The Pemda's identity on every page: its name, logo, the Inspektorat's contacts and the other
official complaint channels (RULES §4: the complaint procedure, with officer, phone, e-mail and
address, is published in plain view; Perbup Sanggau 33/2019 Ps 6(7), 16(2)).

The administrator sets it on a staff page (`Permission.CONFIG_MANAGE`); every change is audited
in the same transaction. Everything here is public information: it is shown to anonymous
visitors, so nothing secret may ever be stored here, and nothing here is ever a reporter's.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.accounts import StaffIdentity
from wbs.context import Context
from wbs.models import Branding

MAX_LOGO_BYTES = 1024 * 1024
MAX_LOGO_PIXELS = 4096 * 4096  # refused before decoding: no decompression bomb
LOGO_BOX = (512, 512)
FAVICON_SIZE = 64

_URL = re.compile(r"https?://[^\s<>\"']{1,300}")
_EMAIL = re.compile(r"[^@\s<>\"']{1,64}@[^@\s<>\"']{1,190}\.[^@\s<>\"']{2,60}")
_PHONE = re.compile(r"[0-9+() .\-]{3,40}")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # text, multiline, url, email, phone
    max_length: int


# The order is the order of the settings form.
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("pemda_name", "text", 120),
    FieldSpec("portal_name", "text", 80),
    FieldSpec("inspektorat_name", "text", 120),
    FieldSpec("inspektorat_address", "multiline", 300),
    FieldSpec("inspektorat_phone", "phone", 40),
    FieldSpec("inspektorat_email", "email", 254),
    FieldSpec("inspektorat_hours", "text", 120),
    FieldSpec("lapor_url", "url", 300),
    FieldSpec("lapor_sms", "phone", 40),
    FieldSpec("hotline", "phone", 40),
    FieldSpec("whatsapp", "phone", 40),
    FieldSpec("letter_address", "multiline", 300),
    FieldSpec("complaint_box", "text", 200),
    FieldSpec("privacy_contact", "email", 254),
    FieldSpec("retention_note", "multiline", 500),
)
SPECS = {spec.name: spec for spec in FIELDS}
REQUIRED = ("pemda_name", "portal_name")


class InvalidBranding(ValueError):
    """Some fields are not acceptable; `errors` maps field name → error key."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(sorted(errors)))
        self.errors = errors


class InvalidLogo(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Brand:
    """What the templates show. `values` has every field of FIELDS (empty when unset)."""

    values: dict[str, str] = field(default_factory=dict)
    logo_version: str = ""  # a digest of the logo: cache-busting part of its URL

    def __getattr__(self, name: str) -> str:
        # Templates read `brand.inspektorat_phone`; only declared fields exist.
        if name in SPECS:
            return self.values.get(name, "")
        raise AttributeError(name)

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_version)

    @property
    def logo_url(self) -> str:
        return f"/static/merek/logo-{self.logo_version}.png" if self.logo_version else ""

    @property
    def favicon_url(self) -> str:
        if self.logo_version:
            return f"/static/merek/favicon-{self.logo_version}.png"
        return "/static/favicon.svg"

    @property
    def has_contacts(self) -> bool:
        return any(self.values.get(name) for name in (
            "inspektorat_address", "inspektorat_phone", "inspektorat_email", "lapor_url",
            "lapor_sms", "hotline", "whatsapp", "letter_address", "complaint_box"))


def defaults(ctx: Context) -> dict[str, str]:
    """Before the administrator sets anything: the names from the settings, the national
    SP4N-LAPOR! channels (the same in every Pemda), nothing invented."""
    values = {spec.name: "" for spec in FIELDS}
    values.update(pemda_name=ctx.settings.pemda_name, portal_name=ctx.settings.portal_name,
                  lapor_url="https://www.lapor.go.id", lapor_sms="1708")
    return values


def _clean(spec: FieldSpec, raw: str) -> tuple[str, str | None]:
    """The value as stored, and an error key or None."""
    if spec.kind == "multiline":
        lines = [" ".join(line.split()) for line in raw.replace("\r\n", "\n").split("\n")]
        value = "\n".join(line for line in lines if line)
    else:
        value = " ".join(raw.split())
    if len(value) > spec.max_length:
        return value[:spec.max_length], "too_long"
    if not value:
        return "", None
    if spec.kind == "url" and not _URL.fullmatch(value):
        return value, "invalid_url"
    if spec.kind == "email" and not _EMAIL.fullmatch(value):
        return value, "invalid_email"
    if spec.kind == "phone" and not _PHONE.fullmatch(value):
        return value, "invalid_phone"
    return value, None


def validate(raw: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The cleaned values of every field, and the errors by field (empty when valid)."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for spec in FIELDS:
        value, error = _clean(spec, raw.get(spec.name, "")[:spec.max_length * 4])
        values[spec.name] = value
        if error:
            errors[spec.name] = error
        elif spec.name in REQUIRED and not value:
            errors[spec.name] = "required"
    return values, errors


def _digest(data: bytes | None) -> str:
    return hashlib.sha256(data).hexdigest()[:16] if data else ""


def load(ctx: Context) -> Brand:
    with ctx.read() as session:
        row = session.get(Branding, 1)
        if row is None:
            return Brand(defaults(ctx))
        stored: Any = json.loads(row.settings or "{}")
        values = defaults(ctx)
        if isinstance(stored, dict):
            values.update({k: str(v) for k, v in stored.items() if k in SPECS})
        return Brand(values, _digest(row.logo_png))


def image(ctx: Context, which: str, version: str) -> bytes | None:
    """The logo or favicon PNG, if `version` is the current one (old URLs get nothing)."""
    with ctx.read() as session:
        row = session.get(Branding, 1)
        if row is None or not row.logo_png or _digest(row.logo_png) != version:
            return None
        return row.logo_png if which == "logo" else row.favicon_png


def _row(session: Session, ctx: Context) -> Branding:
    row = session.get(Branding, 1)
    if row is None:
        row = Branding(id=1, settings="{}", updated_at=ctx.now())
        session.add(row)
    return row


def save(ctx: Context, staff: StaffIdentity, raw: dict[str, str]) -> Brand:
    values, errors = validate(raw)
    if errors:
        raise InvalidBranding(errors)
    with ctx.db.begin() as session:
        row = _row(session, ctx)
        before = defaults(ctx)
        before.update(json.loads(row.settings or "{}"))
        changed = sorted(name for name in SPECS if before.get(name, "") != values[name])
        row.settings = json.dumps(values, ensure_ascii=False, sort_keys=True)
        row.updated_at = ctx.now()
        # Field names only: the values are public, but the log is no place for addresses.
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="config.branding", details={"fields": ",".join(changed) or "-"},
                     now=ctx.now())
    return load(ctx)


def process_logo(data: bytes) -> tuple[bytes, bytes]:
    """Re-encode an uploaded PNG, JPEG, GIF or WebP as a bounded PNG without metadata, and
    make a square favicon from it. SVG is refused: it can carry script."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise InvalidLogo("logo_required")
    if len(data) > MAX_LOGO_BYTES:
        raise InvalidLogo("logo_too_large")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("PNG", "JPEG", "GIF", "WEBP"):
                raise InvalidLogo("logo_type")
            if img.width * img.height > MAX_LOGO_PIXELS:
                raise InvalidLogo("logo_too_large")
            img.seek(0)
            picture = img.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidLogo("logo_type") from exc
    picture.thumbnail(LOGO_BOX)
    logo = io.BytesIO()
    picture.save(logo, format="PNG", optimize=True)
    side = max(picture.width, picture.height)
    square = Image.new("RGBA", (side, side), (255, 255, 255, 0))
    square.paste(picture, ((side - picture.width) // 2, (side - picture.height) // 2))
    icon = io.BytesIO()
    square.resize((FAVICON_SIZE, FAVICON_SIZE), Image.Resampling.LANCZOS).save(icon, format="PNG")
    return logo.getvalue(), icon.getvalue()


def set_logo(ctx: Context, staff: StaffIdentity, data: bytes) -> Brand:
    logo, icon = process_logo(data)
    with ctx.db.begin() as session:
        row = _row(session, ctx)
        row.logo_png, row.favicon_png, row.updated_at = logo, icon, ctx.now()
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="config.branding",
                     details={"fields": "logo", "logo_sha256": hashlib.sha256(logo).hexdigest()},
                     now=ctx.now())
    return load(ctx)


def remove_logo(ctx: Context, staff: StaffIdentity) -> Brand:
    with ctx.db.begin() as session:
        row = session.scalars(select(Branding).where(Branding.id == 1)).first()
        if row is not None and row.logo_png is not None:
            row.logo_png, row.favicon_png, row.updated_at = None, None, ctx.now()
            audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                         action="config.branding", details={"fields": "logo_removed"},
                         now=ctx.now())
    return load(ctx)
