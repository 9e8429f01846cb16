"""The SQL a piece of code sends, for tests that pin plans and statement counts (issue 12)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def captured(engine: Engine, parameters: list[Any] | None = None) -> Iterator[list[str]]:
    """Every statement sent through `engine` inside the block, BEGINs left out; with a
    `parameters` list, each statement's parameters are appended to it, in step."""
    seen: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(statement)
            if parameters is not None:
                parameters.append(params)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)
