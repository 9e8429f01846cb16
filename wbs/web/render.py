"""Template rendering: language, CSRF token and common context for every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from wbs.access import Permission, role_has
from wbs.web import formatting, i18n, labels, security, text_input

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "templates"


def _shown(value: Any) -> Any:
    if hasattr(value, "__html__"):
        # Markup, or an object that renders itself (a refused file's message): its own HTML.
        return Markup(text_input.neutralise(str(value.__html__())))  # noqa: S704 - already HTML
    if isinstance(value, str):
        return text_input.neutralise(value)
    return value


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Every value shown goes through here: text stored with an invisible control (a bidi
        # override in an old reason, say) shows it as U+FFFD instead of obeying it.
        finalize=_shown,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    formatting.install(env)
    labels.install(env)
    return env


def language_of(request: Request) -> str:
    cached = getattr(request.state, "lang", None)
    if isinstance(cached, str):
        return cached
    settings = request.app.state.ctx.settings
    lang = i18n.negotiate(request, settings.languages, settings.default_language)
    request.state.lang = lang
    i18n.activate(request.app.state.catalogs[lang])
    return lang


def use_language(request: Request, lang: str) -> bool:
    """Render this request in `lang` (a language switch that re-renders the page it came from
    instead of redirecting). False, and nothing changed, for a language the site does not offer."""
    if lang not in request.app.state.ctx.settings.languages:
        return False
    request.state.lang = lang
    i18n.activate(request.app.state.catalogs[lang])
    return True


def csrf_token(request: Request) -> str:
    """The token for this visitor's forms; creates the cookie value on first use."""
    value = security.csrf_cookie_value(request) or getattr(request.state, "new_csrf", None)
    if value is None:
        value = security.new_csrf_cookie_value()
        request.state.new_csrf = value
    key = request.app.state.ctx.keys.derived("csrf")
    return security.csrf_token_for(key, value)


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    from wbs.web.branding_views import current as current_brand  # it renders pages itself

    ctx = request.app.state.ctx
    lang = language_of(request)
    staff = getattr(request.state, "staff", None)
    brand = current_brand(request)
    values: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "languages": [(code, i18n.LANGUAGE_NAMES.get(code, code))
                      for code in ctx.settings.languages],
        # The Pemda's identity (wbs.branding): header, footer, receipt, about page.
        "brand": brand,
        "portal_name": brand.portal_name or ctx.settings.portal_name,
        "pemda_name": brand.pemda_name or ctx.settings.pemda_name,
        "csrf_token": csrf_token(request),
        "staff": staff,
        "can": lambda permission: staff is not None and role_has(staff.role,
                                                                 Permission(permission)),
        "path": request.url.path,
    }
    values.update(context or {})
    html = request.app.state.jinja.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    attach_csrf_cookie(request, response)
    return response


def attach_csrf_cookie(request: Request, response: Any) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new is not None:
        response.set_cookie(security.CSRF_COOKIE, new, path="/", secure=True, httponly=True,
                            samesite="strict")
