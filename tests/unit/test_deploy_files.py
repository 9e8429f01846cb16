"""Issue 13: the sample deployment files in docs/deploy/ are parsed, and checked against what
the code expects, so they cannot drift: every command line parses with wbs's own CLI, every
setting in wbs.env is one Settings reads, the proxies allow a full report and keep no log."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest

from wbs.cli import build_parser
from wbs.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"


def _unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text())
    return parser


def _wbs_args(command: str) -> list[str]:
    words = shlex.split(command)
    return words[words.index(next(w for w in words if w.endswith("/wbs"))) + 1:]


@pytest.mark.parametrize("name", ["wbs.service", "wbs-jobs.service", "wbs-backup.service"])
def test_systemd_units_parse_and_their_commands_parse_with_our_cli(name: str) -> None:
    unit = _unit(name)
    service = unit["Service"]
    assert service["User"] == "wbs" and service["UMask"] == "0077"
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service["EnvironmentFile"] == "/etc/wbs/wbs.env"
    command = service["ExecStart"]
    if command.startswith("/bin/sh -c "):
        command = shlex.split(command)[2]
    args = _wbs_args(command.replace('"$WBS_BACKUP_RECIPIENT"', "age1x"))
    parsed = build_parser().parse_args(args)  # exits (fails the test) on an unknown option
    if parsed.cmd == "serve":
        assert parsed.proxy_headers and parsed.workers >= 2 and parsed.host == "127.0.0.1"
        assert _wbs_args(service["ExecStartPre"]) == ["init"]
    if parsed.cmd == "backup":
        assert parsed.recipient  # unattended backups are sealed to an offline key
        assert service["ReadWritePaths"].split()[0] == str(Path(parsed.dest).parent).replace(
            '"', "")


@pytest.mark.parametrize("name", ["wbs-jobs.timer", "wbs-backup.timer"])
def test_timers_start_their_services(name: str) -> None:
    timer = _unit(name)
    assert set(timer["Timer"]) & {"OnUnitActiveSec", "OnCalendar"}
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert (DEPLOY / name.replace(".timer", ".service")).exists()


def test_the_env_file_is_read_by_settings_without_error() -> None:
    environ = {}
    for line in (DEPLOY / "wbs.env").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            environ[name] = value
    settings = Settings.from_env(environ)
    fields = {f"WBS_{name.upper()}" for name in Settings.__dataclass_fields__}
    assert set(environ) <= fields, set(environ) - fields
    assert settings.env == "production" and settings.base_url.startswith("https://")
    assert settings.database_url.startswith("postgresql+psycopg://")


def _size(value: str) -> int:
    match = re.fullmatch(r"([0-9]+)\s*(m|MB)?", value, re.IGNORECASE)
    assert match, value
    return int(match.group(1)) * (1000 * 1000 if match.group(2) else 1)


def test_nginx_site_is_balanced_allows_a_full_report_and_keeps_no_log() -> None:
    text = "\n".join(line.split("#", 1)[0] for line in
                     (DEPLOY / "nginx.conf").read_text().splitlines())
    assert text.count("{") == text.count("}")
    for line in filter(None, (x.strip() for x in text.splitlines())):
        assert line.endswith((";", "{", "}")), f"unterminated directive: {line}"
    directives = dict(re.findall(r"^\s*(client_max_body_size|access_log|proxy_pass|"
                                 r"proxy_request_buffering)\s+([^;]+);", text, re.MULTILINE))
    assert _size(directives["client_max_body_size"]) > Settings().max_report_bytes
    assert directives["access_log"] == "off"
    assert directives["proxy_request_buffering"] == "off"
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    assert "server 127.0.0.1:8000;" in text
    assert "return 301 https://" in text


def test_caddyfile_is_balanced_and_allows_a_full_report() -> None:
    text = (DEPLOY / "Caddyfile").read_text()
    assert text.count("{") - text.count("{remote_host}") - text.count("{scheme}") == \
        text.count("}") - text.count("{remote_host}") - text.count("{scheme}")
    size = re.search(r"max_size\s+([0-9]+MB)", text)
    assert size and _size(size.group(1)) > Settings().max_report_bytes
    assert "reverse_proxy 127.0.0.1:8000" in text
    lines = (x.strip() for x in text.splitlines())
    directives = [x.split()[0] for x in lines if x and not x.startswith("#")]
    assert "log" not in directives  # Caddy keeps no access log unless a `log` directive asks


def test_torrc_points_at_the_portal() -> None:
    lines = [x for x in (DEPLOY / "torrc").read_text().splitlines() if not x.startswith("#")]
    assert "HiddenServicePort 80 127.0.0.1:8000" in lines
    assert any(x.startswith("HiddenServiceDir /var/lib/tor/") for x in lines)


def test_deploy_guide_links_every_sample_and_the_readme_links_the_guide() -> None:
    guide = (DEPLOY.parent / "deploy.md").read_text()
    for path in DEPLOY.iterdir():
        assert f"deploy/{path.name}" in guide, path.name
    readme = (DEPLOY.parents[1] / "README.md").read_text()
    assert "docs/deploy.md" in readme
