"""Issue 10 in a real browser: under the Jayapura profile, the public form offers its kinds
(apresiasi, kritik, keluhan beside the national ones), with and without JavaScript, in Bahasa
Indonesia and English; a report filed as a keluhan is stored as one; a kind altered in the page
is refused with everything typed kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.e2e.conftest import Tab
from wbs.models import Case
from wbs.profiles import store

LABELS = {"id": ("Keluhan", "Apresiasi", "Kritik"), "en": ("Grievance", "Appreciation",
                                                          "Criticism")}
JAYAPURA = ["whistleblowing", "apresiasi", "aspiration", "kritik", "information_request",
            "keluhan", "complaint"]


@pytest.fixture
def jayapura(live_server: Any) -> Iterator[Any]:
    store.choose(live_server.ctx, "jayapura", "admin", "administrator")
    yield live_server
    store.choose(live_server.ctx, "sanggau", "admin", "administrator")


def _fill(tab: Tab, title: str) -> None:
    page = tab.page
    page.fill("#title", title)
    page.fill("#what", "Loket KTP di distrik Sentani tutup sebelum jam layanan berakhir.")
    page.check("#mode-conf")
    page.fill("#identity_name", "Yakobus Ohee")
    page.fill("#identity_address", "Jl. Sentani Kota 12")
    page.fill("#identity_phone", "081234567890")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_keluhan_is_chosen_and_filed_as_a_keluhan(
        open_tab: Callable[..., Tab], jayapura: Any, lang: str, js: bool) -> None:
    tab = open_tab(lang=lang, js=js)
    tab.goto("/lapor")
    values = tab.page.eval_on_selector_all("input[name=kind]", "els => els.map(e => e.value)") \
        if js else [tab.page.get_attribute(f"#kind-{v}", "value") for v in JAYAPURA]
    assert values == JAYAPURA
    assert tab.page.locator("input[name=kind]").count() == len(JAYAPURA)
    for label in LABELS[lang]:
        assert tab.page.get_by_label(label, exact=True).count() == 1
    title = f"Loket tutup {lang} {js}"
    tab.page.get_by_label(LABELS[lang][0], exact=True).check()
    _fill(tab, title)
    tab.submit(tab.page.locator("form[action='/lapor'] button[type=submit]"), "sent")
    assert tab.path().startswith("/lapor/tanda-terima")
    with jayapura.db() as s:
        kind, profile_kind = s.execute(select(Case.kind, Case.profile_kind)
                                       .order_by(Case.id.desc()).limit(1)).one()
    assert (kind, profile_kind) == ("complaint", "keluhan")


def test_a_kind_altered_in_the_page_is_refused_and_the_form_kept(
        open_tab: Callable[..., Tab], jayapura: Any) -> None:
    tab = open_tab(lang="en", js=True)
    tab.goto("/lapor")
    tab.page.get_by_label("Grievance", exact=True).check()
    _fill(tab, "Kind altered in the page")
    tab.page.eval_on_selector("#kind-keluhan", "el => { el.value = 'sengketa_tanah'; }")
    tab.submit(tab.page.locator("form[action='/lapor'] button[type=submit]"), "refused")
    assert tab.path() == "/lapor"
    assert "This kind of report is not used by this portal" in tab.page.content()
    assert tab.page.input_value("#title") == "Kind altered in the page"
    assert tab.page.input_value("#identity_name") == "Yakobus Ohee"
