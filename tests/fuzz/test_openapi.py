"""Schemathesis over `/api/v1/openapi.json`: every documented operation, with bodies drawn from
the schema and outside it, answers without a 5xx and in the shape the document promises
(status codes, content types, bodies, headers).

The app runs in process (ASGI) against the test database, with the rate limits raised so the
fuzzer is not answered 429 after twenty reports. Schemathesis's pytest plugin does not run
under pytest 9 (it reads a private attribute of test items), so the operations' Hypothesis
strategies are driven directly, which is what the plugin does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fuzz import profiles  # noqa: F401 - loads the Hypothesis profile
from wbs.app import create_app
from wbs.context import Context
from wbs.settings import RATE_CATEGORIES, Settings, parse_rate_ceilings, parse_rate_limits
from wbs.web.openapi import OPENAPI

OPERATIONS = [(path, method) for path, item in OPENAPI["paths"].items() for method in item]


@pytest.fixture
def api_schema(settings: Settings, ctx: Context, demo: Any) -> Any:
    tuned = replace(
        settings,
        rate_limits=parse_rate_limits(",".join(f"{c}=1000000/1s" for c in RATE_CATEGORIES)),
        rate_ceilings=parse_rate_ceilings(",".join(f"{c}=1000000" for c in RATE_CATEGORIES)))
    app = create_app(tuned, context=ctx)
    app.state.failure_floor = 0.0
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


def test_every_route_is_documented(api_schema: Any) -> None:
    found = {(op.ok().path, op.ok().method.lower()) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_api_conforms_to_its_document(api_schema: Any, path: str, method: str) -> None:
    operation = api_schema[path][method]

    @given(st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy())
        # A schema-valid body may still be refused on meaning (an unknown unit slug, a code
        # that matches no report): that is a 4xx by design, not a mismatch.
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    run()
