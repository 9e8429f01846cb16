"""Settings: one frozen dataclass read from WBS_* environment variables.

Secret values are wrapped in `Secret`, whose repr is `***`, so a settings object printed in a
traceback or a log line never shows a password.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit

from wbs.crypto.passwords import PRODUCTION_PARAMS, Argon2Params


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def get(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)


# Anonymous requests limited per client and per instance (wbs/web/ratelimit.py, SECURITY.md):
# category -> (requests, per seconds) for one client address; requests per minute for all.
RATE_CATEGORIES = ("report", "message", "upload", "status", "signin", "survey")
# survey: the public SKM form (issue 11); a shared office connection may answer a few dozen.
DEFAULT_RATE_LIMITS = (("report", 20, 3600), ("message", 60, 3600), ("upload", 30, 3600),
                       ("status", 60, 600), ("signin", 30, 600), ("survey", 30, 3600))
DEFAULT_RATE_CEILINGS = (("report", 30), ("message", 120), ("upload", 60), ("status", 600),
                         ("signin", 300), ("survey", 120))
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_LIMIT_SPEC = re.compile(r"([a-z]+)=([0-9]{1,7})/([0-9]{0,5})([smhd])")
_CEILING_SPEC = re.compile(r"([a-z]+)=([0-9]{1,7})")


def parse_rate_limits(spec: str,
                      default: tuple[tuple[str, int, int], ...] = DEFAULT_RATE_LIMITS,
                      ) -> tuple[tuple[str, int, int], ...]:
    """`report=20/h,status=60/10m`: the named categories change, the others keep defaults."""
    limits = {name: (count, seconds) for name, count, seconds in default}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = _LIMIT_SPEC.fullmatch(part)
        if match is None or match.group(1) not in RATE_CATEGORIES:
            raise ValueError(f"bad rate limit {part!r}: use e.g. report=20/h or status=60/10m")
        count, unit = int(match.group(2)), _PERIODS[match.group(4)]
        seconds = int(match.group(3) or "1") * unit
        if count < 1 or seconds < 1:
            raise ValueError(f"bad rate limit {part!r}: count and period must be positive")
        limits[match.group(1)] = (count, seconds)
    return tuple((name, *limits[name]) for name in RATE_CATEGORIES)


def parse_rate_ceilings(spec: str) -> tuple[tuple[str, int], ...]:
    """`report=30,status=600`: requests per minute for the whole instance, per category."""
    ceilings = dict(DEFAULT_RATE_CEILINGS)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = _CEILING_SPEC.fullmatch(part)
        if match is None or match.group(1) not in RATE_CATEGORIES or int(match.group(2)) < 1:
            raise ValueError(f"bad rate ceiling {part!r}: use e.g. report=30 (per minute)")
        ceilings[match.group(1)] = int(match.group(2))
    return tuple((name, ceilings[name]) for name in RATE_CATEGORIES)


# Retention after a case ended (wbs/ops/retention.py): per kind, and for reports archived
# incomplete; (name, amount, unit) with unit y, m or d.
ARCHIVED_RETENTION_KEY = "archived"
DEFAULT_RETENTION = (("whistleblowing", 5, "y"), ("complaint", 5, "y"),
                     ("information_request", 5, "y"), ("aspiration", 5, "y"),
                     (ARCHIVED_RETENTION_KEY, 1, "y"))
_RETENTION_SPEC = re.compile(r"([a-z_]+)=([0-9]{1,3})([ymd])")


def parse_retention(spec: str) -> tuple[tuple[str, int, str], ...]:
    """`complaint=5y,archived=1y,whistleblowing=10y`: the named entries change, others keep
    their defaults. Units: y(ears), m(onths), d(ays); at least 30 days, so that a typo cannot
    destroy the content of every case that ended last week."""
    keys = [name for name, _, _ in DEFAULT_RETENTION]
    periods = {name: (amount, unit) for name, amount, unit in DEFAULT_RETENTION}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = _RETENTION_SPEC.fullmatch(part)
        if match is None or match.group(1) not in periods:
            raise ValueError(f"bad retention {part!r}: use e.g. complaint=5y,archived=1y")
        amount, unit = int(match.group(2)), match.group(3)
        if {"y": 365, "m": 31, "d": 1}[unit] * amount < 30:
            raise ValueError(f"retention {part!r} is shorter than 30 days")
        periods[match.group(1)] = (amount, unit)
    return tuple((name, *periods[name]) for name in keys)


def parse_batch_times(spec: str) -> tuple[time, ...]:
    """`08:00,12:00,15:00`: the local times at which reporter-caused notices go out."""
    times = set()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        try:
            times.add(time.fromisoformat(part).replace(second=0, microsecond=0))
        except ValueError as exc:
            raise ValueError(f"bad notice batch time {part!r}: use HH:MM") from exc
    if not times:
        raise ValueError("at least one notice batch time is needed")
    return tuple(sorted(times))


_ONION = re.compile(r"[a-z2-7]{56}\.onion")


def _onion(value: str) -> str:
    """A v3 onion address (56 base32 letters), or nothing; a typo must not reach a header."""
    value = value.strip().lower().removeprefix("http://").rstrip("/")
    if value and not _ONION.fullmatch(value):
        raise ValueError(f"WBS_ONION_ADDRESS {value!r} is not a v3 onion address")
    return value


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    env: str = "production"  # "development" allows `wbs demo` and plain-HTTP cookies on localhost
    database_url: str = "sqlite:///var/wbs.sqlite3"
    # Seconds a request waits for a free pooled database connection before its 503 (PostgreSQL;
    # libpq's own timeouts go in the URL's query, wbs/db.py).
    db_pool_timeout: float = 10.0
    # Seconds one statement, COMMIT or ROLLBACK of a web request may wait for PostgreSQL before
    # the request gets its 503 (a server that froze mid-request); 0: no bound. Jobs, migrations
    # and the CLI have none.
    db_statement_deadline: float = 30.0
    data_dir: Path = Path("var")
    keys_dir: Path = Path("keys")
    base_url: str = "http://127.0.0.1:8000"
    portal_name: str = "WBS Pemda"
    pemda_name: str = "Pemerintah Kabupaten Contoh"
    languages: tuple[str, ...] = ("id", "en")
    default_language: str = "id"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: Secret = field(default_factory=lambda: Secret(""))
    smtp_from: str = "wbs@localhost"
    mail_dir: Path = Path("var/mail")  # development: notices are written here instead of sent
    argon2: Argon2Params = PRODUCTION_PARAMS
    argon2_max_concurrent: int = 2
    session_idle_seconds: int = 30 * 60
    session_absolute_seconds: int = 8 * 60 * 60
    reporter_session_idle_seconds: int = 30 * 60
    max_file_bytes: int = 25 * 1000 * 1000
    max_report_bytes: int = 100 * 1000 * 1000
    trusted_proxies: str = "127.0.0.1"
    # Host names the portal answers to (WBS_ALLOWED_HOSTS, comma-separated, "*.example.go.id"
    # allowed); empty: the host of base_url, plus 127.0.0.1 and localhost in development.
    allowed_hosts: tuple[str, ...] = ()
    identity_quorum: int = 1
    identity_disclosure_days: int = 14
    # A request to see a reporter's identity not decided within this many days expires
    # (finding 12): a forgotten request must not be approvable months later.
    identity_request_days: int = 30
    timezone: str = "Asia/Jakarta"  # WIB; WITA and WIT regions set Asia/Makassar or Asia/Jayapura
    # Uploads (SECURITY.md, "Availability"): bytes of files one process may hold at once, how
    # long a request may wait for room before a 503, and the sandbox that cleans files.
    upload_budget_bytes: int = 420 * 1000 * 1000  # four full reports with their fields
    upload_wait_seconds: float = 5.0
    clean_workers: int = 2
    clean_memory_bytes: int = 1024 * 1024 * 1024
    clean_cpu_seconds: int = 30
    # Every request body: at least body_min_rate bytes/s in each window, all within the maximum.
    body_min_rate: int = 4096
    body_window_seconds: float = 20.0
    body_max_seconds: float = 1800.0
    # Local times of day at which notices caused by a reporter are released (notices.py).
    notice_batch_times: tuple[time, ...] = (time(8), time(12), time(15))
    rate_limits: tuple[tuple[str, int, int], ...] = DEFAULT_RATE_LIMITS
    rate_ceilings: tuple[tuple[str, int], ...] = DEFAULT_RATE_CEILINGS
    # Serving processes that share the ceilings (workers x nodes); each takes its share.
    rate_limit_processes: int = 1
    # Below this many free bytes in the data folder, uploads are refused and /readyz says 503.
    min_free_bytes: int = 500 * 1000 * 1000
    # An onion service address for the portal (docs/deploy.md); sent as Onion-Location.
    onion_address: str = ""
    retention: tuple[tuple[str, int, str], ...] = DEFAULT_RETENTION
    # SP4N-LAPOR! exchange (wbs/integrations/, README): the HTTPS base URL of the national API
    # (empty: no connector, items wait for the manual export) and its bearer token.
    lapor_endpoint: str = ""
    lapor_token: Secret = field(default_factory=lambda: Secret(""))
    # Every complaint goes to LAPOR! (a regional profile chooses; forwards always go).
    lapor_every_complaint: bool = False
    lapor_max_attempts: int = 10
    lapor_backoff_seconds: float = 60.0  # doubled after each failure ...
    lapor_backoff_cap_seconds: float = 6 * 3600.0  # ... up to this
    lapor_timeout_seconds: float = 15.0

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def hosts(self) -> tuple[str, ...]:
        """The Host header values served; any other is refused (400) before routing."""
        # The onion service's address is configured on its own (WBS_ONION_ADDRESS): Tor Browser
        # sends it as the Host, so it is always served.
        onion = (self.onion_address,) if self.onion_address else ()
        if self.allowed_hosts:
            return tuple(dict.fromkeys((*self.allowed_hosts, *onion)))
        base = urlsplit(self.base_url).hostname or "127.0.0.1"
        local = ("127.0.0.1", "localhost") if self.development else ()
        return tuple(dict.fromkeys((base, *onion, *local)))

    @property
    def secure_cookies(self) -> bool:
        # __Host- cookies demand Secure. Browsers treat http://127.0.0.1 and localhost as a
        # secure context and accept Secure cookies there, so this is on everywhere.
        return True

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ if environ is None else environ)
        d = cls()

        def get(name: str, default: str) -> str:
            return e.get(f"WBS_{name}", default)

        data_dir = Path(get("DATA_DIR", str(d.data_dir)))
        return cls(
            env=get("ENV", d.env),
            database_url=get("DATABASE_URL", f"sqlite:///{data_dir / 'wbs.sqlite3'}"),
            db_pool_timeout=float(get("DB_POOL_TIMEOUT", str(d.db_pool_timeout))),
            db_statement_deadline=float(get("DB_STATEMENT_DEADLINE_SECONDS",
                                            str(d.db_statement_deadline))),
            data_dir=data_dir,
            keys_dir=Path(get("KEYS_DIR", str(d.keys_dir))),
            base_url=get("BASE_URL", d.base_url).rstrip("/"),
            portal_name=get("PORTAL_NAME", d.portal_name),
            pemda_name=get("PEMDA_NAME", d.pemda_name),
            languages=tuple(x for x in get("LANGUAGES", "id,en").split(",") if x),
            default_language=get("DEFAULT_LANGUAGE", d.default_language),
            smtp_host=get("SMTP_HOST", ""),
            smtp_port=int(get("SMTP_PORT", str(d.smtp_port))),
            smtp_user=get("SMTP_USER", ""),
            smtp_password=Secret(get("SMTP_PASSWORD", "")),
            smtp_from=get("SMTP_FROM", d.smtp_from),
            mail_dir=Path(get("MAIL_DIR", str(data_dir / "mail"))),
            argon2=Argon2Params.decode(get("ARGON2", d.argon2.encode())),
            argon2_max_concurrent=int(get("ARGON2_MAX_CONCURRENT", str(d.argon2_max_concurrent))),
            max_file_bytes=int(get("MAX_FILE_BYTES", str(d.max_file_bytes))),
            max_report_bytes=int(get("MAX_REPORT_BYTES", str(d.max_report_bytes))),
            trusted_proxies=get("TRUSTED_PROXIES", d.trusted_proxies),
            allowed_hosts=tuple(h.strip().lower() for h in get("ALLOWED_HOSTS", "").split(",")
                                if h.strip()),
            identity_quorum=int(get("IDENTITY_QUORUM", str(d.identity_quorum))),
            identity_disclosure_days=int(get("IDENTITY_DISCLOSURE_DAYS", "14")),
            identity_request_days=max(1, int(get("IDENTITY_REQUEST_DAYS", "30"))),
            timezone=get("TIMEZONE", d.timezone),
            upload_budget_bytes=int(get("UPLOAD_BUDGET_BYTES", str(d.upload_budget_bytes))),
            upload_wait_seconds=float(get("UPLOAD_WAIT_SECONDS", str(d.upload_wait_seconds))),
            clean_workers=int(get("CLEAN_WORKERS", str(d.clean_workers))),
            clean_memory_bytes=int(get("CLEAN_MEMORY_BYTES", str(d.clean_memory_bytes))),
            clean_cpu_seconds=int(get("CLEAN_CPU_SECONDS", str(d.clean_cpu_seconds))),
            body_min_rate=int(get("BODY_MIN_RATE", str(d.body_min_rate))),
            body_window_seconds=float(get("BODY_WINDOW_SECONDS", str(d.body_window_seconds))),
            body_max_seconds=float(get("BODY_MAX_SECONDS", str(d.body_max_seconds))),
            notice_batch_times=parse_batch_times(get("NOTICE_BATCH_TIMES", "08:00,12:00,15:00")),
            rate_limits=parse_rate_limits(get("RATE_LIMITS", "")),
            rate_ceilings=parse_rate_ceilings(get("RATE_CEILINGS", "")),
            rate_limit_processes=max(1, int(get("RATE_LIMIT_PROCESSES", "1"))),
            min_free_bytes=int(get("MIN_FREE_BYTES", str(d.min_free_bytes))),
            onion_address=_onion(get("ONION_ADDRESS", "")),
            retention=parse_retention(get("RETENTION", "")),
            lapor_endpoint=get("LAPOR_ENDPOINT", "").rstrip("/"),
            lapor_token=Secret(get("LAPOR_TOKEN", "")),
            lapor_every_complaint=_bool(get("LAPOR_EVERY_COMPLAINT", "")),
            lapor_max_attempts=max(1, int(get("LAPOR_MAX_ATTEMPTS", str(d.lapor_max_attempts)))),
            lapor_backoff_seconds=float(get("LAPOR_BACKOFF_SECONDS",
                                            str(d.lapor_backoff_seconds))),
            lapor_backoff_cap_seconds=float(get("LAPOR_BACKOFF_CAP_SECONDS",
                                                str(d.lapor_backoff_cap_seconds))),
            lapor_timeout_seconds=float(get("LAPOR_TIMEOUT_SECONDS",
                                            str(d.lapor_timeout_seconds))),
        )
