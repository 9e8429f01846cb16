"""Schemathesis over the report operation under the Jayapura profile (issue 10): the document
then lists Jayapura's kinds (keluhan, apresiasi, kritik...), and bodies drawn from it must be
answered as documented, like the default profile's in test_openapi.py."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fuzz import profiles  # noqa: F401 - loads the Hypothesis profile
from tests.fuzz.test_openapi import api_schema  # noqa: F401 - the fixture, rate limits raised
from wbs.context import Context
from wbs.profiles import store


def test_reports_conform_under_jayapura(ctx: Context, api_schema: Any) -> None:  # noqa: F811
    store.choose(ctx, "jayapura", "admin", "administrator")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api_schema.app)
    operation = schema["/api/v1/reports"]["post"]
    kind = schema.raw_schema["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["properties"]["kind"]
    assert "keluhan" in kind["enum"] and "kritik" in kind["enum"]

    @given(st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy())
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    run()
