"""The LAN server's published OpenAPI document is valid OpenAPI, every `$ref` in it is
defined, and the schemathesis CLI with every check (status codes, Allow headers,
schema-violating requests refused, schema-valid ones accepted, response schemas...) finds
nothing against the live server with a tablet token (issue 24, point 6)."""

from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from lan_fixtures are test parameters)
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import schemathesis

from app.events import EventBus, NewVisitor
from app.sync.lan.server import LanServer
from tests.sync.lan_fixtures import (  # noqa: F401  (fixtures)
    bus,
    client,
    pair,
    seeded,
    server,
    store,
)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_the_document_is_valid_openapi_with_every_ref_defined(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(doc).validate()  # the OpenAPI meta-schema
    refs = set(_refs(doc))
    assert "#/components/schemas/WebhookLine" in refs
    for ref in refs:
        assert isinstance(_resolve(doc, ref), dict), ref
    hook = doc["paths"]["/api/v1/pos/webhook"]["post"]
    assert {"401", "413", "415", "422"} <= set(hook["responses"])
    assert "429" in doc["paths"]["/api/v1/pairing"]["get"]["responses"]
    props = doc["components"]["schemas"]["WebhookPurchase"]["properties"]
    assert props["ts"]["minimum"] > 0 and props["ts"]["maximum"] < 9.9e10


def test_schemathesis_cli_finds_nothing(
    server: LanServer, seeded: dict[str, int], bus: EventBus, tmp_path: Path
) -> None:
    with httpx.Client(base_url=server.local_url) as c:
        token = pair(c, server, seeded["anna"], "1234")
    bus.publish(NewVisitor("cam", 1.0, 1, 0.1, "Shoes", "v1", 3, b"\xff\xd8\xff"))
    st = Path(sys.executable).with_name("st")
    run = subprocess.run(
        [
            str(st),
            "run",
            f"{server.local_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--seed",
            "24",
            "--exclude-path-regex",
            ".*/events$",  # never ends by design: tested in test_lan_server
            "--no-color",
        ],
        cwd=tmp_path,  # its .schemathesis cache stays out of the repository
        capture_output=True,
        text=True,
        timeout=600,
    )
    tail = run.stdout[-4000:]
    assert run.returncode == 0, tail
    summary = run.stdout.strip().splitlines()[-1]
    assert "failure" not in summary and "error" not in summary, tail
    assert "passed" in run.stdout and "Tested: 15" in run.stdout, tail
