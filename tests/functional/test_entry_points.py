"""The two ways into wbs besides `wbs.cli.main`: `python -m wbs` (its exit status is the
command's) and `wbs.asgi:app`, which every uvicorn worker imports (settings from WBS_*, JSON
logs). Both run here in this process; the live-server tests run them in child processes."""

from __future__ import annotations

import importlib
import io
import json
import logging
import runpy
import sys
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from wbs import logs
from wbs.settings import Settings


@pytest.fixture
def environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in (("DATABASE_URL", settings.database_url),
                        ("KEYS_DIR", str(settings.keys_dir)), ("DATA_DIR", str(settings.data_dir)),
                        ("BASE_URL", "https://wbs.test"), ("ARGON2", settings.argon2.encode()),
                        ("ALLOWED_HOSTS", "wbs.test"), ("ENV", "development")):
        monkeypatch.setenv(f"WBS_{name}", value)
    return settings


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    yield
    logs.flush_deferred(None)
    root.handlers[:] = saved
    root.setLevel(level)


def python_m_wbs(monkeypatch: pytest.MonkeyPatch, *argv: str) -> int | str | None:
    monkeypatch.setattr(sys, "argv", ["wbs", *argv])
    with pytest.raises(SystemExit) as done:
        runpy.run_module("wbs", run_name="__main__")
    return done.value.code


def test_python_m_wbs_exits_with_the_commands_status(
        environment: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert python_m_wbs(monkeypatch, "unit", "add", "inspektorat", "--name", "Inspektorat",
                        "--kind", "apip") == 0
    assert python_m_wbs(monkeypatch, "unit", "add", "inspektorat", "--name", "Inspektorat",
                        "--kind", "apip") == 2
    assert capsys.readouterr().err == "wbs: unit inspektorat already exists\n"
    assert python_m_wbs(monkeypatch, "audit", "verify") == 0
    assert capsys.readouterr().out.startswith("audit log OK: 1 entries")


def test_the_asgi_app_is_built_from_the_environment_with_json_logs(
        environment: Settings, monkeypatch: pytest.MonkeyPatch, root_logging: None) -> None:
    sys.modules.pop("wbs.asgi", None)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)  # where logs.configure() writes by default
    asgi = importlib.import_module("wbs.asgi")
    try:
        ctx = asgi.app.state.ctx
        assert ctx.settings.database_url == environment.database_url
        assert ctx.settings.allowed_hosts == ("wbs.test",)
        with TestClient(asgi.app, base_url="https://wbs.test") as client:
            assert client.get("/healthz").status_code == 200
            assert client.get("/staf/masuk-tidak-ada").status_code == 404
            # A host the portal does not answer to is refused.
            assert client.get("/healthz", headers={"host": "evil.example"}).status_code == 400
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        staff = [e for e in lines if e.get("path") == "/staf/masuk-tidak-ada"]
        assert staff and staff[0]["status"] == 404 and "ts" in staff[0]
        # /healthz is not a staff path: its lines were held, and written untimed with a count
        # when the app stopped.
        held = [e for e in lines if e.get("event") == "request" and e.get("path") == "/healthz"]
        assert sorted(e["status"] for e in held) == [200, 400]
        assert all("ts" not in e and e["count"] == 1 and "day" in e for e in held)
        assert lines.index(held[0]) > lines.index(staff[0])
        ctx.engine.dispose()
    finally:
        sys.modules.pop("wbs.asgi", None)
