"""Bar charts as SVG drawn on the server: readable without JavaScript, with a text alternative.

The SVG carries `role="img"`, a `<title>` and a `<desc>` listing every bar's label and value,
so a screen reader reads the same figures the table beside it holds. Every text is escaped:
labels come from the administrator's lists (categories, unit names).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 220
BAR_WIDTH = 360


def bar_chart(chart_id: str, title: str, bars: Sequence[tuple[str, int]],
              shown: Sequence[str] | None = None) -> str:
    """Horizontal bars. `shown` replaces the value's text (e.g. "<5" on the public page); the
    bar of a replaced value is drawn at zero length so its size does not tell it either."""
    texts = list(shown) if shown is not None else [str(v) for _l, v in bars]
    drawn = [0 if shown is not None and t != str(v) else v for (_l, v), t in zip(bars, texts,
                                                                               strict=True)]
    top = max(drawn, default=0) or 1
    height = max(1, len(bars)) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + 60
    desc = "; ".join(f"{label}: {text}" for (label, _v), text in zip(bars, texts, strict=True))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        # Scales to its container (no fixed size; static/*.css caps it): a phone screen must not
        # scroll sideways.
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for i, ((label, _value), text, value) in enumerate(zip(bars, texts, drawn, strict=True)):
        y = GAP + i * (BAR_HEIGHT + GAP)
        length = round(BAR_WIDTH * value / top)
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 6}" text-anchor="end" '
            f'font-size="13">{escape(label[:40])}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" '
            f'fill="#1d5a8c"></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + BAR_HEIGHT - 6}" '
            f'font-size="13">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
