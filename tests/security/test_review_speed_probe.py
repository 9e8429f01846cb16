"""Review of issue 12 (speed2): tampered page keys on every keyset-paged view."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Clock, sign_in
from wbs.context import Context

BAD = ["-1", "0", "999999999999999999", "9" * 19, "abc", "1e3", "²", "١٢", "%00", "' OR 1=1",
       "9999-12-31.999999999999", "0001-01-01.0", "2026-W01-1.5", "20260101.3",
       "2026-01-01.-1", "2026-01-01.", ".5", "2026-01-01.5.6", "x" * 40]


@pytest.mark.parametrize(("who", "path"), [
    ("auditor", "/staf/audit?aksi=case&"), ("auditor", "/api/v1/audit/entries?aksi=case&"),
    ("verifikator", "/staf?"), ("verifikator", "/staf/kasus?"),
    ("verifikator", "/staf/kasus?terlambat=1&"), ("inspektur", "/staf/identitas?")])
def test_tampered_keys_never_500(ctx: Context, demo: dict[str, dict[str, str]], client: Any,
                                 clock: Clock, who: str, path: str) -> None:
    sign_in(client, demo[who], who, clock)
    for name in ("setelah", "sebelum"):
        for value in BAD:
            r = client.get(path + f"{name}={value}")
            assert r.status_code < 500, (name, value, r.status_code)
