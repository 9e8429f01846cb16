"""Languages: Bahasa Indonesia by default, English available (gettext catalogs via Babel).

Message ids are English; `wbs/locale/id/LC_MESSAGES/messages.po` translates them. Catalogs are
compiled in memory at start-up, so there is no build step to forget. The active translation lives
in a context variable, so the Jinja environment can be shared safely between concurrent requests.
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Iterable
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request
from starlette.responses import Response

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANG_COOKIE = "wbs-lang"
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}

_NULL = _gettext.NullTranslations()
_current: ContextVar[_gettext.NullTranslations | None] = ContextVar("wbs_translations",
                                                                    default=None)


def load_catalogs(languages: Iterable[str]) -> dict[str, _gettext.NullTranslations]:
    catalogs: dict[str, _gettext.NullTranslations] = {}
    for lang in languages:
        po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            catalogs[lang] = _gettext.NullTranslations()  # English message ids need no catalog
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        catalogs[lang] = Translations(fp=buf)
    return catalogs


def negotiate(request: Request, languages: tuple[str, ...], default: str) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    header = request.headers.get("accept-language", "")[:200]
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        tag, _, q = part.strip().partition(";q=")
        lang = tag.split("-")[0].strip().lower()
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        if lang in languages:
            ranked.append((weight, lang))
    if ranked:
        return max(ranked, key=lambda item: item[0])[1]
    return default


def remember(response: Response, lang: str) -> None:
    """The language cookie of a switch (public and staff pages alike)."""
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", secure=True,
                        httponly=True, samesite="strict")


def activate(translations: _gettext.NullTranslations) -> None:
    _current.set(translations)


def gettext(message: str) -> str:
    return (_current.get() or _NULL).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return (_current.get() or _NULL).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    return message
