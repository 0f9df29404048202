"""Catalogue of client-server network paths.

The entries are data (``splitopt/data/networks.json``). A :class:`Network` has
uplink and downlink bandwidth (bit/s, what a transfer
achieves, not the PHY rate) and a one-way delay (seconds) charged once per
message. Mobile figures are typical measured medians; Wi-Fi and Ethernet are
goodput on a path to an edge server on the same LAN. Each entry cites its
source and says how the figure was chosen.

Units: bit/s and seconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from splitopt.scenario import catalogue, rules

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
        rules.typed_fields(self)
        rules.positive(self.uplink_bps, "uplink_bps")
        rules.positive(self.downlink_bps, "downlink_bps")
        rules.nonneg(self.one_way_delay_s, "one_way_delay_s")
        for key in ("uplink_bps", "downlink_bps", "one_way_delay_s"):
            object.__setattr__(self, key, float(getattr(self, key)))

    def replace(self, **changes: object) -> Network:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


#: name -> Network, from ``splitopt/data/networks.json``
NETWORKS: dict[str, Network] = catalogue.load("networks", Network, FILE_NAMES)


def get_network(name: str) -> Network:
    """The catalogue entry ``name``; :class:`KeyError` lists the valid names."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise KeyError(f"unknown network {name!r}; valid networks: {', '.join(NETWORKS)}") from None
