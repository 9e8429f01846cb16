"""Browser fixtures: Debian's Chromium through Playwright, and the real app on a free port.

Never downloads a browser: Chromium comes from Debian (`apt-get install -y chromium`), and
axe-core from the npm registry at the version pinned in axe-core.lock (`make e2e-deps`). When
either is missing the browser tests are skipped on a developer's machine and fail under CI=true.
Every page a test visits through `Tab.goto` / `Tab.submit` is screenshotted to
var/artifacts/screenshots/<test>/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import checks

CHROMIUM = Path(os.environ.get("WBS_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = checks.ROOT / "var" / "artifacts" / "screenshots"
# The probe's flags for a closed network: no background fetches, no component updates, no sync.
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
WIDTHS = {1280: 800, 375: 740}  # desktop, and a small phone (viewport height)
LOCALES = {"id": "id-ID", "en": "en-US"}
VARIANTS = [("id", 1280), ("id", 375), ("en", 1280), ("en", 375)]


def unavailable(message: str) -> None:
    """Skip on a developer's machine; under CI a missing browser or axe-core is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: browser tests must run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # this run's pictures only
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# Module scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it lives, and every later test calling asyncio.run() (the upload parser's tests)
# would fail with "cannot be called from a running event loop". (tests/e2e is no package, so
# "package" would mean all of tests/.) A launch costs about a second per module.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (make .venv/.installed)")
    args = list(CHROMIUM_ARGS)
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium's sandbox refuses to run as root
    with sync_playwright() as pw:
        # launch() gives every run a fresh, empty temporary profile (--user-data-dir).
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_ready() -> None:
    if not checks.axe_path().exists():
        unavailable(f"axe-core not found at {checks.axe_path()}: run `make e2e-deps`")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.e2e.server import serve

    with serve(tmp_path_factory.mktemp("e2e-instance")) as server:
        yield server


@pytest.fixture(autouse=True)
def _restore_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test may move the server's clock; the next one starts where the session started."""
    if "live_server" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("live_server")
    start = server.clock.current
    yield
    server.clock.current = start


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:100] or "root"


@dataclass
class Tab:
    """One browser page of the app in one language, width and JavaScript setting."""

    page: Any
    base: str
    lang: str
    width: int
    js: bool
    folder: Path
    shots: list[Path] = field(default_factory=list)

    @property
    def variant(self) -> str:
        return f"{self.lang}-{self.width}{'' if self.js else '-nojs'}"

    def shot(self, label: str = "") -> Path:
        path = self.folder / (f"{len(self.shots) + 1:02d}-"
                              f"{_slug(label or self.page.url.split('/', 3)[-1])}-"
                              f"{self.variant}.png")
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    def goto(self, path: str, label: str = "") -> Any:
        response = self.page.goto(self.base + path)
        self.shot(label or path)
        return response

    def submit(self, locator: Any, label: str = "") -> None:
        """Click a submit control, wait for the page it leads to, and screenshot it."""
        with self.page.expect_navigation():
            locator.click()
        self.shot(label)

    def path(self) -> str:
        return "/" + self.page.url.split("/", 3)[-1] if self.page.url.count("/") >= 3 else "/"


@pytest.fixture
def open_tab(browser: Any, live_server: Any, artifacts: Path,
             request: pytest.FixtureRequest) -> Iterator[Callable[..., Tab]]:
    """Factory: open_tab(lang="id", width=1280, js=True) → a Tab in a fresh browser context."""
    contexts: list[Any] = []
    folder = artifacts / _slug(request.node.originalname)

    def make(lang: str = "id", width: int = 1280, js: bool = True) -> Tab:
        folder.mkdir(parents=True, exist_ok=True)
        context = browser.new_context(
            viewport={"width": width, "height": WIDTHS.get(width, 800)},
            is_mobile=width < 600, has_touch=width < 600, locale=LOCALES[lang],
            java_script_enabled=js, extra_http_headers={"Accept-Language": LOCALES[lang]})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Tab(page=context.new_page(), base=live_server.url, lang=lang, width=width,
                   js=js, folder=folder)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(params=VARIANTS, ids=[f"{lang}-{width}" for lang, width in VARIANTS])
def tab(request: pytest.FixtureRequest, open_tab: Callable[..., Tab]) -> Tab:
    """A Tab in each language and width (four runs of the test that asks for it)."""
    lang, width = request.param
    return open_tab(lang=lang, width=width)
