"""What the browser tests assert about a page: axe-core, sideways scroll, targets, focus ring.

Each helper raises AssertionError with enough detail (rule, element, measured value) to fix the
page without rerunning the test by hand.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
LOCK = Path(__file__).resolve().parent / "axe-core.lock"
# WCAG 2.0, 2.1 and 2.2, levels A and AA: the tags axe-core gives those rules.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
MIN_TARGET = 44  # CSS pixels: WCAG 2.5.5's size, which issue 9 asks for (2.5.8 AA is 24)
MIN_FOCUS_CONTRAST = 3.0  # WCAG 1.4.11 / 2.4.13: a focus indicator against what it sits on


def axe_version() -> str:
    return LOCK.read_text().split()[0]


def axe_path() -> Path:
    """Where `make e2e-deps` unpacks the pinned axe-core (git-ignored)."""
    override = os.environ.get("WBS_AXE_JS")
    if override:
        return Path(override)
    return ROOT / "var" / "cache" / f"axe-core-{axe_version()}" / "axe.min.js"


@cache
def _axe_source() -> str:
    return axe_path().read_text(encoding="utf-8")


def inject_axe(page: Page) -> None:
    # Evaluated through the DevTools protocol, not as a <script> element: the pages' CSP
    # (script-src 'self') stays in force for everything the test checks.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())


def axe_violations(page: Page, tags: tuple[str, ...] = WCAG_TAGS) -> list[dict[str, Any]]:
    inject_axe(page)
    result: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                               resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                          html: n.html.slice(0, 200),
                                          summary: n.failureSummary}))}));
        }""", list(tags))
    return result


def assert_no_axe_violations(page: Page, tags: tuple[str, ...] = WCAG_TAGS) -> None:
    found = axe_violations(page, tags)
    if found:
        lines = [f"{len(found)} axe-core violation(s) on {page.url}:"]
        for v in found:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
            lines.extend(f"    {n['target']}: {n['html']}\n      {n['summary']}"
                         for n in v["nodes"][:5])
        raise AssertionError("\n".join(lines))


def assert_no_sideways_scroll(page: Page) -> None:
    measured = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [];
            for (const el of document.body.querySelectorAll('*')) {
                const r = el.getBoundingClientRect();
                // Too wide itself, or content spilling out of a box that does not scroll.
                const spills = el.scrollWidth > el.clientWidth + 1 &&
                               getComputedStyle(el).overflowX === 'visible' &&
                               r.left + el.scrollWidth > width + 1;
                if (r.width && (r.right > width + 1 || spills)) {
                    wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                              (el.className && typeof el.className === 'string'
                               ? '.' + el.className.trim().replace(/\\s+/g, '.') : '') +
                              ' right=' + Math.round(Math.max(r.right, r.left + el.scrollWidth)));
                }
            }
            return {scroll: document.documentElement.scrollWidth, width, wide};
        }""")
    if measured["scroll"] > measured["width"]:
        raise AssertionError(
            f"{page.url} scrolls sideways: content {measured['scroll']} px wide in a "
            f"{measured['width']} px viewport; too wide: {measured['wide'][:8]}")


def target_sizes(page: Page, selector: str) -> list[dict[str, Any]]:
    """The clickable box of each visible match: a radio or checkbox counts with its labels."""
    result: list[dict[str, Any]] = page.evaluate(
        """(selector) => {
            const out = [];
            for (const el of document.querySelectorAll(selector)) {
                const own = el.getBoundingClientRect();
                if (!own.width || !own.height) continue;  // not rendered
                let l = own.left, t = own.top, r = own.right, b = own.bottom;
                for (const label of (el.labels || [])) {
                    const box = label.getBoundingClientRect();
                    if (!box.width) continue;
                    l = Math.min(l, box.left); t = Math.min(t, box.top);
                    r = Math.max(r, box.right); b = Math.max(b, box.bottom);
                }
                out.push({html: el.outerHTML.slice(0, 120), width: r - l, height: b - t});
            }
            return out;
        }""", selector)
    return result


def assert_target_sizes(page: Page, selector: str, minimum: float = MIN_TARGET) -> int:
    """Every visible match is at least `minimum` px in both directions; returns how many."""
    sizes = target_sizes(page, selector)
    small = [s for s in sizes if s["width"] < minimum - 0.5 or s["height"] < minimum - 0.5]
    if small:
        shown = "\n".join(f"  {s['width']:.0f}×{s['height']:.0f}: {s['html']}" for s in small[:10])
        raise AssertionError(f"{len(small)} target(s) under {minimum} px on {page.url} "
                             f"({selector}):\n{shown}")
    return len(sizes)


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def focus_rings(page: Page, selector: str) -> list[dict[str, Any]]:
    """Focus each visible match and read its ring and the colour the ring sits on.

    The ring is the outline (or, without one, the first box-shadow); the colour behind it is
    the nearest ancestor's opaque background, composited over white, since an outline with an
    offset is drawn outside the element.
    """
    result: list[dict[str, Any]] = page.evaluate(
        """(selector) => {
            const parse = (s) => {
                const m = s.match(/rgba?\\(([^)]+)\\)/);
                if (!m) return null;
                const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
                return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
            };
            const behind = (el) => {
                let layers = [];
                for (let n = el.parentElement; n; n = n.parentElement) {
                    const c = parse(getComputedStyle(n).backgroundColor);
                    if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
                }
                let rgb = [255, 255, 255];
                for (const c of layers.reverse()) {
                    rgb = rgb.map((v, i) => c[i] * c[3] + v * (1 - c[3]));
                }
                return rgb;
            };
            const out = [];
            for (const el of document.querySelectorAll(selector)) {
                const box = el.getBoundingClientRect();
                if (!box.width || !box.height) continue;
                el.focus();
                const s = getComputedStyle(el);
                let ring = null, width = 0;
                if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) {
                    ring = parse(s.outlineColor); width = parseFloat(s.outlineWidth);
                } else if (s.boxShadow && s.boxShadow !== 'none') {
                    ring = parse(s.boxShadow);
                    const px = s.boxShadow.match(/(-?[0-9.]+)px/g) || [];
                    width = px.length ? Math.max(...px.map(parseFloat)) : 0;
                }
                out.push({html: el.outerHTML.slice(0, 120), ring, width,
                          behind: behind(el), focused: document.activeElement === el,
                          visible: el.matches(':focus-visible')});
                el.blur();
            }
            return out;
        }""", selector)
    return result


def assert_focus_ring_contrast(page: Page, selector: str,
                               minimum: float = MIN_FOCUS_CONTRAST) -> int:
    """Every visible match shows a ring of at least 2 px and `minimum`:1 contrast on focus."""
    bad = []
    rings = focus_rings(page, selector)
    for r in rings:
        if not r["focused"]:
            bad.append(f"  cannot take focus: {r['html']}")
        elif r["ring"] is None or r["width"] < 2:
            bad.append(f"  no focus ring: {r['html']}")
        else:
            ratio = contrast(tuple(r["ring"][:3]), tuple(r["behind"]))
            if ratio < minimum:
                bad.append(f"  ring {r['ring'][:3]} on {[round(c) for c in r['behind']]}: "
                           f"{ratio:.2f}:1: {r['html']}")
    if bad:
        raise AssertionError(f"focus ring under {minimum}:1 on {page.url} ({selector}):\n"
                             + "\n".join(bad[:10]))
    return len(rings)


def page_problems(page: Page, targets: str, focusable: str) -> list[str]:
    """Every check of a page (axe, sideways scroll, target sizes, focus ring contrast), run in
    full: the failures as text, so one walk reports all of them at once."""
    problems = []
    for check in (lambda: assert_no_axe_violations(page),
                  lambda: assert_no_sideways_scroll(page),
                  lambda: assert_target_sizes(page, targets),
                  lambda: assert_focus_ring_contrast(page, focusable)):
        try:
            check()
        except AssertionError as exc:
            problems.append(str(exc))
    return problems
