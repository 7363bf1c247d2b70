"""The fuzzing harness of the schemathesis tests reports a failing operation (so those
tests can fail) and passes a check that holds."""

from __future__ import annotations

from typing import Any

import schemathesis

from tests.schema_fuzz import fuzz_operations

SPEC = {
    "openapi": "3.0.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/items": {
            "get": {
                "parameters": [
                    {
                        "name": "n",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0, "maximum": 100},
                    }
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/health": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
}


def test_reports_the_failing_operation_only() -> None:
    schema = schemathesis.openapi.from_dict(SPEC)

    def check(case: Any) -> None:
        assert (case.query or {}).get("n", 0) < 50, "n too large"

    failures = fuzz_operations(schema, check, max_examples=50)
    assert len(failures) == 1
    assert failures[0].startswith("GET /items") and "n too large" in failures[0]


def test_a_check_that_holds_passes() -> None:
    schema = schemathesis.openapi.from_dict(SPEC)
    seen: list[str] = []
    assert fuzz_operations(schema, lambda case: seen.append(case.path), max_examples=5) == []
    assert set(seen) == {"/items", "/health"}
