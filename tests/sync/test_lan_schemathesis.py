"""schemathesis against the published OpenAPI document of the live LAN server, with a
valid token: whatever it sends, the server never answers 5xx."""

from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from lan_fixtures are test parameters)
from typing import Any

import httpx
import schemathesis

from app.events import EventBus, NewVisitor
from app.sync.lan.server import LanServer
from tests.schema_fuzz import fuzz_operations
from tests.sync.lan_fixtures import (  # noqa: F401  (fixtures)
    bus,
    pair,
    seeded,
    server,
    store,
)


def test_no_server_errors(server: LanServer, seeded: dict[str, int], bus: EventBus) -> None:
    with httpx.Client(base_url=server.local_url) as c:
        token = pair(c, server, seeded["anna"], "1234")
    bus.publish(NewVisitor("cam", 1.0, 1, 0.1, "Shoes", "v1", 3, b"\xff\xd8\xff"))
    schema = schemathesis.openapi.from_url(f"{server.local_url}/openapi.json")
    # the live stream never ends by design: it is tested in test_lan_server
    schema = schema.exclude(path_regex=r".*/events$")
    headers = {"Authorization": f"Bearer {token}"}

    def check(case: Any) -> None:
        response = case.call(headers=headers, timeout=10)
        assert response.status_code < 500, (case.method, case.path, response.text[:300])

    assert fuzz_operations(schema, check, max_examples=25) == []
