"""The pairing URL must carry an address a tablet can reach, not the loopback."""

from __future__ import annotations

import ipaddress
import sys

import pytest

from app.sync.lan.tls import interface_addresses, local_names


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIOCGIFADDR is Linux's")
def test_interfaces_are_read_directly() -> None:
    addrs = interface_addresses()
    assert "127.0.0.1" in addrs  # the loopback interface is always there
    for a in addrs:
        ipaddress.IPv4Address(a)


def test_lan_addresses_include_every_interface_address() -> None:
    _, ips = local_names()
    lan = [a for a in interface_addresses() if not a.startswith("127.")]
    assert set(lan) <= set(ips)
