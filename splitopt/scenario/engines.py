"""Engine profiles: the figures a serving engine reaches on each kind of device.

The devices' catalogue figures (:mod:`splitopt.scenario.devices`) stand for a
tuned batch-1 engine on that device. An engine profile replaces them with
what one engine reaches on a device *kind* (``"datacenter-gpu"``,
``"consumer-gpu"``, ``"laptop"``, ...): compute and bandwidth efficiencies and
the fixed costs per forward pass. The entries are data
(``splitopt/data/engines.json``); each figure cites the measurements it was
fitted on (``splitopt/data/measurements.json``, ``python -m
splitopt.experiments.calibration --fit``). A kind an engine has no figures
for keeps the device's own figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from splitopt.errors import SpecError
from splitopt.scenario import catalogue, rules
from splitopt.scenario.devices import ENGINE_FIGURES, ENGINE_PATHS, PEAK_KEYS, Device


@dataclass(frozen=True)
class Engine:
    """A serving engine's figures per device kind.

    Attributes:
        name: catalogue name (``"llama.cpp"``, ``"lmdeploy"``, ...).
        figures: device kind -> {figure -> value}; figures are those of
            :data:`~splitopt.scenario.devices.ENGINE_FIGURES` (efficiencies in
            (0, 1], overheads in seconds per forward pass and transformer
            block) and the compute path
            :data:`~splitopt.scenario.devices.ENGINE_PATHS` (``matmul_peak``:
            a ``peak_flops`` key; ``dequant_pass``: true or false).
        aliases: other names that select this profile.
        description, source, notes: what it is and where its figures come from.
    """

    name: str
    figures: Mapping[str, Mapping[str, float]]
    aliases: tuple[str, ...] = ()
    description: str = ""
    source: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        rules.typed_fields(self)
        if not isinstance(self.figures, Mapping):
            raise SpecError(["figures"], "must be an object of device kind -> figures")
        clean: dict[str, dict[str, float | str | bool]] = {}
        for kind, figs in self.figures.items():
            if not isinstance(figs, Mapping):
                raise SpecError(["figures", kind], "must be an object of figure -> number")
            clean[kind] = {}
            for k, v in figs.items():
                if k == "source":
                    continue
                if k == "matmul_peak":
                    rules.choice(v, PEAK_KEYS, ["figures", kind, k])
                    clean[kind][k] = v
                    continue
                if k == "dequant_pass":
                    rules.boolean(v, ["figures", kind, k])
                    clean[kind][k] = v
                    continue
                if k not in ENGINE_FIGURES:
                    valid = ", ".join(ENGINE_FIGURES + ENGINE_PATHS)
                    raise SpecError(["figures", kind, k], f"unknown figure; valid: {valid}")
                if k.endswith("_s"):
                    rules.nonneg(v, ["figures", kind, k])
                else:
                    rules.fraction(v, ["figures", kind, k])
                clean[kind][k] = float(v)
        object.__setattr__(self, "figures", clean)
        object.__setattr__(self, "aliases", tuple(self.aliases))

    def apply(self, device: Device) -> Device:
        """``device`` with this engine's figures for its kind (unchanged if none)."""
        figs = self.figures.get(device.kind)
        return device.tuned(**figs) if figs else device


def _load() -> dict[str, Engine]:
    out: dict[str, Engine] = {}
    for eng in catalogue.load("engines", Engine).values():
        for name in (eng.name, *eng.aliases):
            out[name] = eng
    return out


#: name (or alias) -> Engine, from ``splitopt/data/engines.json``
ENGINES: dict[str, Engine] = _load()


def get_engine(name: str) -> Engine:
    """The profile ``name``; :class:`KeyError` lists the valid names."""
    try:
        return ENGINES[name]
    except KeyError:
        raise KeyError(f"unknown engine {name!r}; valid engines: {', '.join(ENGINES)}") from None
