"""Hypothesis profiles: a bounded run in `make test`, a long one in `make soak`.

`HYPOTHESIS_PROFILE=soak` (set by `make soak`) multiplies the examples; the default keeps the
short suite short. No example database is written, so runs leave nothing in the worktree.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON: dict[str, object] = {
    "database": None, "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]}
settings.register_profile("default", max_examples=60, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("soak", max_examples=2000, **_COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
