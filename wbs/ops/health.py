"""Liveness, readiness and the free-space guard (issue 13).

`/healthz` says the process answers; `/readyz` says it can do its work: the database answers, the
instance keys are readable and safe, and the data folder has room. A load balancer takes a
non-ready server out of rotation. The same free-space probe guards every upload: when the disk is
nearly full the portal refuses a new submission at once, with a clear message, instead of failing
half way through sealing and storing it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import text

from wbs import instance
from wbs.context import Context
from wbs.settings import Settings

LOW_DISK = "low_disk"  # the detail key of the 503 (never free text from a request)


def free_bytes(path: Path) -> int:
    """Free bytes on the file system holding `path` (its nearest existing parent)."""
    probe = path.resolve()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def disk_low(settings: Settings) -> bool:
    return free_bytes(settings.data_dir) < settings.min_free_bytes


def readiness(ctx: Context) -> dict[str, bool]:
    """Each check by name; the server is ready when all are true. No detail leaves: a failing
    check's cause goes to the operator's log, not to whoever asks."""
    checks = {"database": True, "keys": True, "disk": True}
    try:
        with ctx.read() as session:
            session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["database"] = False
    try:
        instance.load_keys(ctx.settings.keys_dir)
    except instance.KeyFileError:
        checks["keys"] = False
    try:
        checks["disk"] = not disk_low(ctx.settings)
    except OSError:
        checks["disk"] = False
    return checks
