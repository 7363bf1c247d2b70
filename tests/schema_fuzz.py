"""Property-based fuzzing of a live server from its published OpenAPI document, driven
by Hypothesis directly (schemathesis' strategies, not its pytest plugin).

schemathesis' `pytest.from_fixture` integration breaks with each pytest major release
(4.32.5 with pytest 9.2: "'Function' object has no attribute '_nodeid'"); the strategies
and `case.call` are its stable public API, so the suite does not depend on the plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings


def fuzz_operations(schema: Any, check: Callable[[Any], None], max_examples: int) -> list[str]:
    """Run `check(case)` on `max_examples` generated cases of every operation of
    `schema`; return one line per operation whose check failed (its smallest case)."""
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            check(case)

        try:
            run()
        except AssertionError as exc:
            failures.append(f"{operation.label}: {exc}")
    assert operations > 0, "the OpenAPI document has no operation"
    return failures
