"""schemathesis against the HQ receiver's OpenAPI document (the real server process on
real PostgreSQL): whatever it sends, with or without a valid store key, no 5xx."""

from __future__ import annotations

from typing import Any

import schemathesis

from tests.schema_fuzz import fuzz_operations
from tests.sync.conftest import Hq


def test_no_server_errors(hq: Hq) -> None:
    schema = schemathesis.openapi.from_url(f"{hq.base_url}/openapi.json")
    auth = {"Authorization": f"Bearer {hq.key}", "X-Vitrine-Store": hq.store_id}

    def check(case: Any) -> None:
        for headers in (auth, {}):
            response = case.call(headers=headers, timeout=10)
            assert response.status_code < 500, (case.method, case.path, response.text[:300])

    assert fuzz_operations(schema, check, max_examples=40) == []
