"""Catalogue of client-server network paths.

A :class:`Network` has uplink and downlink bandwidth (bit/s, what a transfer
achieves, not the PHY rate) and a one-way delay (seconds) charged once per
message. Mobile figures are typical measured medians; Wi-Fi and Ethernet are
goodput on a path to an edge server on the same LAN. Each entry cites its
source and says how the figure was chosen.

Units: bit/s and seconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from splitopt.scenario import rules

#: Network attributes spelled differently in files (scenario objects, the catalogue).
FILE_NAMES: dict[str, str] = {
    "uplink_bps": "uplink_bit_per_s",
    "downlink_bps": "downlink_bit_per_s",
}


@dataclass(frozen=True)
class Network:
    """A client-server network path.

    Attributes:
        name: catalogue name.
        uplink_bps: client-to-server bandwidth, bit/s.
        downlink_bps: server-to-client bandwidth, bit/s.
        one_way_delay_s: latency of one message, seconds (half a round trip).
        description, source, notes: provenance.
    """

    name: str
    uplink_bps: float
    downlink_bps: float
    one_way_delay_s: float
    description: str = ""
    source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        rules.positive(self.uplink_bps, "uplink_bps")
        rules.positive(self.downlink_bps, "downlink_bps")
        rules.nonneg(self.one_way_delay_s, "one_way_delay_s")

    def replace(self, **changes: object) -> Network:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


M = 1e6

_CATALOGUE: list[Network] = [
    Network(
        name="lte",
        description="4G LTE, typical",
        uplink_bps=8 * M,
        downlink_bps=30 * M,
        one_way_delay_s=0.030,
        source="Opensignal mobile network experience reports "
        "(https://www.opensignal.com/reports); Ookla Speedtest Global Index "
        "(https://www.speedtest.net/global-index)",
        notes="median 4G experience: ~30 Mbit/s down, ~8 up, ~60 ms round trip",
    ),
    Network(
        name="5g",
        description="5G sub-6 GHz, typical",
        uplink_bps=20 * M,
        downlink_bps=200 * M,
        one_way_delay_s=0.015,
        source="Opensignal 5G experience reports (https://www.opensignal.com/reports); "
        "Ookla Speedtest Global Index (https://www.speedtest.net/global-index)",
        notes="median 5G experience: ~200 Mbit/s down, ~20 up, ~30 ms round trip",
    ),
    Network(
        name="wifi-5",
        description="Wi-Fi 5 (802.11ac, 2x2, 80 MHz) to an edge server on the LAN",
        uplink_bps=300 * M,
        downlink_bps=400 * M,
        one_way_delay_s=0.003,
        source="IEEE 802.11ac-2013 (2x2 80 MHz PHY rate 866.7 Mbit/s)",
        notes="goodput about half the PHY rate (MAC overhead, contention); uplink lower",
    ),
    Network(
        name="wifi-6",
        description="Wi-Fi 6 (802.11ax, 2x2, 80 MHz) to an edge server on the LAN",
        uplink_bps=500 * M,
        downlink_bps=700 * M,
        one_way_delay_s=0.002,
        source="IEEE 802.11ax-2021 (2x2 80 MHz PHY rate 1201 Mbit/s)",
        notes="goodput about 60 % of the PHY rate; uplink lower",
    ),
    Network(
        name="1gbe",
        description="Gigabit Ethernet LAN",
        uplink_bps=940 * M,
        downlink_bps=940 * M,
        one_way_delay_s=0.0002,
        source="IEEE 802.3ab (1000BASE-T)",
        notes="TCP goodput ~940 Mbit/s after framing; ~0.4 ms round trip through a switch",
    ),
    Network(
        name="datacenter",
        description="Datacenter fabric (100 Gbit/s Ethernet / InfiniBand EDR)",
        uplink_bps=100_000 * M,
        downlink_bps=100_000 * M,
        one_way_delay_s=0.00001,
        source="IEEE 802.3ba / InfiniBand EDR (100 Gbit/s)",
        notes="10 microseconds one way within a rack or pod",
    ),
]

#: name -> Network
NETWORKS: dict[str, Network] = {n.name: n for n in _CATALOGUE}


def get_network(name: str) -> Network:
    """The catalogue entry ``name``; :class:`KeyError` lists the valid names."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise KeyError(f"unknown network {name!r}; valid networks: {', '.join(NETWORKS)}") from None
