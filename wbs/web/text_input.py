"""One layer for text coming in, and one rule for text going out (finding 8.13).

In: every form field, multipart field and JSON string passes `clean`. A NUL byte or a lone
UTF-16 surrogate is refused (400): no honest client sends them, PostgreSQL cannot store a NUL,
and a surrogate cannot be encoded to UTF-8 at all, so both used to end in a 500. Invisible
controls are removed rather than refused, so that text pasted from a word processor is never
lost: C0 and C1 controls other than tab and line breaks, and Unicode format characters (bidi
embeddings, overrides and isolates, directional marks, zero-width spaces, the BOM, ...) that can
make a reason or a message read differently from what it is. The zero-width joiner and non-joiner
stay (emoji and some scripts need them; they reorder nothing). JSON is also refused past a small
nesting depth, which no document of this API reaches.

Out: `neutralise` turns any such character still stored (written before this layer, or by the
CLI) into U+FFFD, visibly, in every page (the Jinja `finalize` hook) and in the CSV export.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from starlette.convertors import Convertor, register_url_convertor

MAX_JSON_DEPTH = 16
KEPT = frozenset("\t\n\r\u200c\u200d")
_SURROGATE = re.compile("[\ud800-\udfff]")
_URL_CONTROL = re.compile("[\x00-\x1f\x7f]")
_ASCII_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadText(ValueError):
    """Text no honest client sends (NUL, lone surrogates, JSON nested past the limit)."""


@functools.cache
def _invisible() -> re.Pattern[str]:
    # Built once per process from the running Python's Unicode tables (a quarter of a second),
    # so new format characters are covered when Python's Unicode version moves on.
    codes = [c for c in range(sys.maxunicode + 1)
             if unicodedata.category(chr(c)) in ("Cc", "Cf") and chr(c) not in KEPT]
    # As ranges (a-b), which the regex engine tests far faster than 200 single characters.
    ranges: list[list[int]] = []
    for c in codes:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return re.compile("[" + "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges) + "]")


def warm() -> None:
    _invisible()


def _pattern(value: str) -> re.Pattern[str]:
    # Most text is ASCII (checked at C speed): then only the ASCII controls need looking for.
    return _ASCII_CONTROL if value.isascii() else _invisible()


def clean(value: str) -> str:
    """Text as typed, fit to store: refuse NUL and lone surrogates, drop invisible controls."""
    if "\x00" in value or (not value.isascii() and _SURROGATE.search(value)):
        raise BadText
    return _pattern(value).sub("", value)


def scrub(value: str) -> str:
    """Like `clean`, but never refuses: NUL and lone surrogates become U+FFFD (sign-in, whose
    failure must be throttled and audited like any other, not refused before)."""
    return clean(_SURROGATE.sub("\ufffd", value.replace("\x00", "\ufffd")))


def neutralise(value: str) -> str:
    """Text for display: every invisible control and surrogate shown as U+FFFD."""
    if value.isascii():
        return _ASCII_CONTROL.sub("\ufffd", value)
    return _invisible().sub("\ufffd", _SURROGATE.sub("\ufffd", value))


def clean_fields(values: Mapping[str, str]) -> dict[str, str]:
    return {clean(name): clean(value) for name, value in values.items()}


def clean_json(data: Any) -> Any:
    """Every string (keys too) through `clean`; refuse nesting deeper than MAX_JSON_DEPTH.

    Iterative, so that depth costs no recursion; `json.loads` itself is called under a
    RecursionError guard by the caller.
    """
    root: list[Any] = [data]
    stack: list[tuple[Any, Any, int]] = [(root, 0, 0)]
    while stack:
        parent, key, depth = stack.pop()
        value = parent[key]
        if isinstance(value, str):
            parent[key] = clean(value)
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise BadText
            if isinstance(value, dict):
                cleaned = {clean(k): v for k, v in value.items()}
                parent[key] = cleaned
                stack.extend((cleaned, k, depth + 1) for k in cleaned)
            else:
                stack.extend((value, i, depth + 1) for i in range(len(value)))
    return root[0]


def url_is_clean(path: str, query_string: bytes) -> bool:
    """No control character in the decoded path or query: they only ever come from tools."""
    query = unquote(query_string.decode("latin-1").replace("+", " "))
    return not (_URL_CONTROL.search(path) or _URL_CONTROL.search(query))


class UrlGuardMiddleware:
    """Refuse (400) a request whose path or query carries a control character, before any
    handler turns it into a database parameter (a NUL made PostgreSQL fail: a 500)."""

    def __init__(self, app: Any, respond: Any) -> None:
        self.app = app
        self.respond = respond  # (scope, receive, send, status) -> awaitable: the error page

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not url_is_clean(scope.get("path", ""),
                                                        scope.get("query_string", b"")):
            await self.respond(scope, receive, send, 400)
            return
        await self.app(scope, receive, send)


ROW_ID_LIMIT = 2**31 - 1  # PostgreSQL `integer`, the type of every row id a URL carries


class RowIdConvertor(Convertor[int]):
    """`{name:rowid}`: digits as an int, and a number past the column's range as 0, which no
    row has, so the answer is the ordinary 404 (a larger number made PostgreSQL fail: a 500)."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        number = int(value) if len(value) <= 10 else 0
        return number if number <= ROW_ID_LIMIT else 0

    def to_string(self, value: int) -> str:
        return str(value)


# Registered on import: `wbs.web.forms` (and so every module with a form) imports this module,
# and routes are built only in `create_app`, after every import.
register_url_convertor("rowid", RowIdConvertor())
