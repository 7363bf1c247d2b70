"""schemathesis against the HQ receiver's OpenAPI document (the real server process on
real PostgreSQL): whatever it sends, with or without a valid store key, no 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.sync.conftest import Hq

AUTH: dict[str, str] = {}


@pytest.fixture
def hq_schema(hq: Hq) -> Iterator[Any]:
    AUTH.update({"Authorization": f"Bearer {hq.key}", "X-Vitrine-Store": hq.store_id})
    yield schemathesis.openapi.from_url(f"{hq.base_url}/openapi.json")


schema = schemathesis.pytest.from_fixture("hq_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors(case: Any) -> None:
    for headers in (AUTH, {}):
        response = case.call(headers=headers, timeout=10)
        assert response.status_code < 500, (case.method, case.path, response.text[:300])
