"""Scenarios: real architectures, devices and networks compiled into split problems.

* :mod:`~splitopt.scenario.spec`: the scenario types, their rules in their constructors;
* :mod:`~splitopt.scenario.architectures`: model configurations (with sources);
* :mod:`~splitopt.scenario.devices`, :mod:`~splitopt.scenario.networks`: catalogues
  (entries in ``splitopt/data/*.json``, loaded by :mod:`~splitopt.scenario.catalogue`);
* :mod:`~splitopt.scenario.engines`: engine profiles (figures per device kind, ``engines.json``);
* :mod:`~splitopt.scenario.profiles`: measured per-layer profiles that replace the roofline;
* :mod:`~splitopt.scenario.costmodel`: FLOPs, bytes, roofline and network time (SPEC §5),
  calibrated by :mod:`splitopt.experiments.calibration`;
* :mod:`~splitopt.scenario.compile`: :class:`Scenario` -> :class:`~splitopt.problem.Problem`,
  and SLA calibration.

No files are read here except the package's catalogue data; scenario files are
read and written by :mod:`splitopt.formats.scenario_file`.
"""

from __future__ import annotations

from splitopt.scenario.architectures import ARCHITECTURES, Architecture, get_architecture
from splitopt.scenario.devices import DEVICES, Device, get_device
from splitopt.scenario.engines import ENGINES, Engine, get_engine
from splitopt.scenario.networks import NETWORKS, Network, get_network
from splitopt.scenario.profiles import Profile
from splitopt.scenario.spec import ClientSpec, ModelSpec, RequestClass, Scenario, ServerSpec

__all__ = [
    "ARCHITECTURES",
    "DEVICES",
    "ENGINES",
    "NETWORKS",
    "Architecture",
    "ClientSpec",
    "Device",
    "Engine",
    "ModelSpec",
    "Network",
    "Profile",
    "RequestClass",
    "Scenario",
    "ServerSpec",
    "get_architecture",
    "get_device",
    "get_engine",
    "get_network",
]
