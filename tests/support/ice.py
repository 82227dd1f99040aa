"""Let aioice offer 127.0.0.1: the peers under test run on this machine.

aioice leaves loopback out of its host candidates; with it added first, whatever other
interfaces the machine has (none, in a container), the two peers can always reach each other.
"""

from __future__ import annotations

from collections.abc import Callable


def offer_loopback() -> Callable[[], None]:
    """Add 127.0.0.1 to aioice's host addresses; returns what undoes it."""
    import aioice.ice

    original = aioice.ice.get_host_addresses

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = original(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
        return ["127.0.0.1", *addresses] if use_ipv4 else addresses

    aioice.ice.get_host_addresses = with_loopback

    def undo() -> None:
        aioice.ice.get_host_addresses = original

    return undo
