"""Settings: one frozen dataclass read from WBS_* environment variables.

Secret values are wrapped in `Secret`, whose repr is `***`, so a settings object printed in a
traceback or a log line never shows a password.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    env: str = "production"  # "development" allows `wbs demo` and plain-HTTP cookies on localhost
    database_url: str = "sqlite:///var/wbs.sqlite3"
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
    identity_quorum: int = 1
    identity_disclosure_days: int = 14
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

    @property
    def development(self) -> bool:
        return self.env == "development"

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
            identity_quorum=int(get("IDENTITY_QUORUM", str(d.identity_quorum))),
            identity_disclosure_days=int(get("IDENTITY_DISCLOSURE_DAYS", "14")),
            timezone=get("TIMEZONE", d.timezone),
            upload_budget_bytes=int(get("UPLOAD_BUDGET_BYTES", str(d.upload_budget_bytes))),
            upload_wait_seconds=float(get("UPLOAD_WAIT_SECONDS", str(d.upload_wait_seconds))),
            clean_workers=int(get("CLEAN_WORKERS", str(d.clean_workers))),
            clean_memory_bytes=int(get("CLEAN_MEMORY_BYTES", str(d.clean_memory_bytes))),
            clean_cpu_seconds=int(get("CLEAN_CPU_SECONDS", str(d.clean_cpu_seconds))),
            body_min_rate=int(get("BODY_MIN_RATE", str(d.body_min_rate))),
            body_window_seconds=float(get("BODY_WINDOW_SECONDS", str(d.body_window_seconds))),
            body_max_seconds=float(get("BODY_MAX_SECONDS", str(d.body_max_seconds))),
        )
