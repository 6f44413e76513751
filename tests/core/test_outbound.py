"""The outbound guard's rules: which addresses count as inside the network, and the allow-list."""

from __future__ import annotations

import pytest

from octopushx.core import outbound


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1",
     "fe80::1", "fd00::1", "::ffff:127.0.0.1", "224.0.0.1"],
)  # fmt: skip
def test_inside_addresses_are_refused_by_default(address):
    with pytest.raises(outbound.Refused):
        outbound.Policy().check("example.test", address, 80)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    outbound.Policy().check("example.test", address, 443)


def test_allow_list_entries_match_address_port_network_and_name():
    policy = outbound.Policy(allow=tuple(outbound.parse_allow_list(["127.0.0.1:8123", "10.9.0.0/16", "llm.lan"])))
    policy.check("anything", "127.0.0.1", 8123)
    policy.check("anything", "10.9.4.4", 80)
    policy.check("LLM.lan.", "192.168.0.7", 11434)
    for host, address, port in [
        ("anything", "127.0.0.1", 8124),
        ("anything", "10.8.0.1", 80),
        ("x.lan", "192.168.0.7", 80),
    ]:
        with pytest.raises(outbound.Refused):
            policy.check(host, address, port)


def test_allow_private_allows_every_address():
    outbound.Policy(allow_private=True).check("metadata", "169.254.169.254", 80)


def test_check_url_refuses_bad_schemes_and_private_answers():
    with pytest.raises(outbound.Refused, match="http"):
        outbound.check_url("file:///etc/passwd")
    with pytest.raises(outbound.Refused, match="private network"):
        outbound.check_url("http://hooks.example.test/x", policy=outbound.Policy(), resolver=lambda h, p: ["10.0.0.5"])
    outbound.check_url(
        "https://hooks.example.test/x", policy=outbound.Policy(), resolver=lambda h, p: ["93.184.216.34"]
    )
