"""The SQL a piece of code sends, for tests that pin plans and statement counts (issue 12)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def _listening(engine: Engine, keep: Callable[[str, Any], None]) -> Iterator[None]:
    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        if not statement.startswith("BEGIN"):
            keep(statement, params)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", capture)


@contextmanager
def captured(engine: Engine, parameters: list[Any] | None = None) -> Iterator[list[str]]:
    """Every statement sent through `engine` inside the block, BEGINs left out; with a
    `parameters` list, each statement's parameters are appended to it, in step."""
    seen: list[str] = []

    def keep(statement: str, params: Any) -> None:
        seen.append(statement)
        if parameters is not None:
            parameters.append(params)

    with _listening(engine, keep):
        yield seen


@contextmanager
def captured_with_parameters(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent through `engine` inside the block with its parameters, BEGINs
    left out."""
    seen: list[tuple[str, Any]] = []
    with _listening(engine, lambda statement, params: seen.append((statement, params))):
        yield seen
