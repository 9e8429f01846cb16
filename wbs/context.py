"""What every service function needs: settings, keys, the database and a clock.

The clock is injectable so tests can drive session timeouts and deadlines without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from wbs.audit import AuditKeys
from wbs.audit.reads import ReadCounts
from wbs.crypto.passwords import PasswordKDF
from wbs.instance import InstanceKeys
from wbs.settings import Settings


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    settings: Settings
    keys: InstanceKeys
    engine: Engine
    db: sessionmaker[Session]
    kdf: PasswordKDF
    clock: Callable[[], datetime] = utcnow
    # Reporter reads of this process, counted per day and written once the day has ended.
    reporter_reads: ReadCounts = field(default_factory=ReadCounts)

    @cached_property
    def read(self) -> sessionmaker[Session]:
        """Read-only sessions (no SQLite write lock): lists, lookups, health."""
        from wbs.db import make_read_sessionmaker

        return make_read_sessionmaker(self.engine)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """Today in the Pemda's time zone: dates of receipt and deadlines are local dates."""
        return self.clock().astimezone(ZoneInfo(self.settings.timezone)).date()

    @cached_property
    def audit_keys(self) -> AuditKeys:
        host = urlsplit(self.settings.base_url).netloc or "wbs.local"
        return AuditKeys(
            origin=f"{host}/audit",
            key_name=f"{host}-audit",
            private=self.keys.audit_private,
            public=self.keys.audit_public,
            zone=self.settings.timezone,
        )
