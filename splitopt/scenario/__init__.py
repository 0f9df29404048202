"""Scenarios: real architectures, devices and networks compiled into split problems.

* :mod:`~splitopt.scenario.architectures`: model configurations (with sources);
* :mod:`~splitopt.scenario.devices`, :mod:`~splitopt.scenario.networks`: catalogues;
* :mod:`~splitopt.scenario.costmodel`: FLOPs, bytes, roofline and network time (SPEC §5);
* :mod:`~splitopt.scenario.compile`: ``splitopt-scenario`` files -> problems.
"""

from __future__ import annotations

from splitopt.scenario.architectures import ARCHITECTURES, Architecture, get_architecture
from splitopt.scenario.devices import DEVICES, Device, get_device
from splitopt.scenario.networks import NETWORKS, Network, get_network

__all__ = [
    "ARCHITECTURES",
    "DEVICES",
    "NETWORKS",
    "Architecture",
    "Device",
    "Network",
    "get_architecture",
    "get_device",
    "get_network",
]
