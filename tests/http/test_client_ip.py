"""``client_ip`` behind proxies: ``X-Forwarded-For`` counts only when the peer is a trusted
proxy, and then its right-most untrusted address is the client (a client can write anything to
the left of what the proxies append)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError

from dhanvantri.http.endpoint import (
    TRUSTED_PROXIES,
    client_ip,
    forwarded_client,
    trusted_networks,
)
from dhanvantri.settings import Settings

PROXIES = trusted_networks("10.0.0.0/24, 192.0.2.7")
PROXY, INNER_PROXY = "192.0.2.7", "10.0.0.9"
PATIENT, SPOOFED = "203.0.113.20", "198.51.100.1"


def test_an_untrusted_peers_header_is_ignored() -> None:
    assert forwarded_client(PATIENT, [SPOOFED], PROXIES) == PATIENT


def test_behind_one_proxy_the_address_it_appended_wins_over_a_spoofed_one() -> None:
    assert forwarded_client(PROXY, [f"{SPOOFED}, {PATIENT}"], PROXIES) == PATIENT


def test_a_chain_of_trusted_proxies_is_walked_back_to_the_client() -> None:
    # patient -> INNER_PROXY -> PROXY -> server: PROXY appended INNER_PROXY's address.
    assert forwarded_client(PROXY, [f"{SPOOFED}, {PATIENT}, {INNER_PROXY}"],
                            PROXIES) == PATIENT


def test_header_lines_are_read_as_one_list_in_order() -> None:
    # The client's own header line first, the one the proxy added after it.
    assert forwarded_client(PROXY, [SPOOFED, PATIENT], PROXIES) == PATIENT


def test_when_every_hop_is_trusted_the_farthest_is_the_client() -> None:
    assert forwarded_client(PROXY, [f"10.0.0.3, {INNER_PROXY}"], PROXIES) == "10.0.0.3"
    assert forwarded_client(PROXY, [], PROXIES) == PROXY


def test_an_entry_that_is_not_an_address_stops_at_the_proxy_that_passed_it_on() -> None:
    assert forwarded_client(PROXY, [f"{PATIENT}, unknown"], PROXIES) == PROXY
    assert forwarded_client(PROXY, [f"{PATIENT}, {INNER_PROXY}, ,junk"], PROXIES) == PROXY


def test_ipv4_seen_through_an_ipv6_socket_is_the_same_address() -> None:
    assert forwarded_client(f"::ffff:{PROXY}", [PATIENT], PROXIES) == PATIENT
    assert forwarded_client(PROXY, [f"::ffff:{PATIENT}"], PROXIES) == PATIENT


def test_ipv6_proxies_and_clients() -> None:
    proxies = trusted_networks("2001:db8::/64")
    assert forwarded_client("2001:db8::5", ["2001:db8:1::7"], proxies) == "2001:db8:1::7"
    assert forwarded_client("2001:db8:1::7", [PATIENT], proxies) == "2001:db8:1::7"


def test_the_setting_is_a_comma_list_of_addresses_and_networks(tmp_path: Path) -> None:
    assert trusted_networks("") == ()
    assert [str(n) for n in trusted_networks(" 10.1.2.0/24 ,127.0.0.1,, ::1 ")] == [
        "10.1.2.0/24", "127.0.0.1/32", "::1/128"]
    with pytest.raises(ValueError, match="proxy"):
        trusted_networks("proxy.example.org")
    with pytest.raises(ValidationError, match="not an address or network"):
        Settings(data_dir=tmp_path, trusted_proxies="10.0.0.0/33")
    assert Settings(data_dir=tmp_path).trusted_proxies == ""  # trust none by default


async def address_app(trusted: str | None) -> TestClient:
    """A real app whose one route answers the caller's address as ``client_ip`` reads it."""
    async def who(request: web.Request) -> web.Response:
        return web.json_response({"address": client_ip(request)})

    app = web.Application()
    if trusted is not None:
        app[TRUSTED_PROXIES] = trusted_networks(trusted)
    app.router.add_get("/who", who)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.mark.parametrize(("trusted", "seen"), [(None, "127.0.0.1"), ("", "127.0.0.1"),
                                               ("10.0.0.0/8", "127.0.0.1"),
                                               ("127.0.0.0/8", PATIENT)])
async def test_client_ip_reads_the_header_only_from_the_apps_trusted_proxies(
        trusted: str | None, seen: str) -> None:
    client = await address_app(trusted)
    try:
        response = await client.get("/who", headers={"X-Forwarded-For": f"{SPOOFED}, {PATIENT}"})
        assert (await response.json())["address"] == seen
    finally:
        await client.close()
