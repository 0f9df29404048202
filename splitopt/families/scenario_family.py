"""One builder for the scenario-based families (``llm-edge``, ``paper-like``).

A family is a frozen, typed :class:`ScenarioFamily`: its tables (servers,
clients with memory-budget ranges, model groups with token ranges, weight
dtypes, sizes) and its rules (load: counts or arrival rates; SLA calibration:
:class:`SlaRule`). :func:`build` turns (family, seed, size) into scenario
objects (:class:`Scenario` and its specs, no JSON on the way), costs every
request class once, calibrates the SLAs on those chains and assembles the
:class:`~splitopt.problem.Problem` from the same chains: one validation, one
costing, the SLA stored once (in each class and its chain; never in
``Request.meta``).

Sweeps change a family with :meth:`ScenarioFamily.replace` (``prompt_tokens``,
``output_tokens``, ``client``, ``count``, ``classes``, ...), which returns a
new, validated family; the draws of everything not overridden stay the same.

Draw order (fixed, so a seed gives the same instance byte for byte): server;
the clients (a sample without replacement, in table order); each client's
budget; then per class: architecture, dtype, client, prompt and output tokens,
load (the client after the tokens where ``client_after_tokens``); then the
SLAs, class by class (:func:`calibrate_slas`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Literal

import numpy as np

from splitopt.errors import FamilyError
from splitopt.evaluate import min_latency, score
from splitopt.problem import WORK_UNITS, Chain, Problem
from splitopt.scenario.architectures import ARCHITECTURES, GRANULARITIES
from splitopt.scenario.compile import assemble_problem, class_chains
from splitopt.scenario.cost_models import CALIBRATED, COST_MODELS
from splitopt.scenario.costmodel import DEFAULT_COMPUTE, WEIGHT_DTYPES
from splitopt.scenario.devices import DEVICES
from splitopt.scenario.networks import NETWORKS
from splitopt.scenario.spec import ClientSpec, ModelSpec, RequestClass, Scenario, ServerSpec

#: The SLA a class carries only while its chain is costed: the latency bounds
#: the calibration reads do not depend on it, and it never leaves :func:`build`.
_UNCALIBRATED_SLA_S = 1.0


@dataclass(frozen=True)
class ClientEntry:
    """A client of the family's table: catalogue device and network names and the
    (least, largest) memory budget in bytes, drawn uniformly and rounded to 3
    significant digits (our assumption: the memory an inference app may use)."""

    device: str
    network: str
    budget_bytes: tuple[float, float]

    @property
    def mid_budget_bytes(self) -> float:
        """The budget a client gets when a sweep adds it (range midpoint, 3 digits)."""
        lo, hi = self.budget_bytes
        return float(f"{(lo + hi) / 2:.3g}")


@dataclass(frozen=True)
class ModelGroup:
    """Architectures drawn uniformly for a class, and the class's token ranges.

    ``prompt_tokens`` and ``output_tokens`` are (least, largest) log-uniform
    ranges; ``None`` means the architecture's fixed count (vision models) or no
    generated tokens. Tokens are capped by the context: a generating model keeps
    room for one output token, and the output takes at most what is left.
    """

    label: str
    architectures: tuple[str, ...]
    prompt_tokens: tuple[int, int] | None
    output_tokens: tuple[int, int] | None = None


@dataclass(frozen=True)
class SizeSpec:
    """Request classes, clients and the largest request count of a class."""

    classes: int
    clients: int
    max_count: int


@dataclass(frozen=True)
class SlaRule:
    """How each class's SLA is set so that it binds (our rule; SPEC is silent).

    SLA = T_min + f (T_client - T_min), f ~ U(``binding``), where T_min is the
    least latency of any placement and T_client the all-client latency; a
    fraction ``infeasible_frac`` gets T_min x U(0.6, 0.95) (infeasible),
    ``generous_frac`` T_client x U(1, 1.2). Where the client alone is fastest,
    SLA = T_min x U(1, 1.5). Where the memory budget rules out all-client, the
    SLA is raised to at least T_server x U(1, 1.5) (all-server needs no client
    memory), so such classes stay feasible unless drawn infeasible. SLAs are
    multiplied by 1.00005 and rounded to 4 significant digits (to nearest: the
    nudge does not make it a rounding up, so an SLA may end up to 0.05 % below
    its drawn value; kept as it is so that instances regenerate byte for byte).
    """

    infeasible_frac: float = 0.05
    generous_frac: float = 0.05
    binding: tuple[float, float] = (0.02, 0.7)


@dataclass(frozen=True)
class ScenarioFamily:
    """A scenario family: its tables and rules, plus optional sweep overrides.

    Attributes:
        name: family name (instances are named ``{name}-{size}-s{seed}``).
        description: one line, formatted with ``clients``, ``server``, ``seed``.
        sizes: size name -> :class:`SizeSpec`.
        servers: catalogue device names; one is drawn per instance.
        clients: client name -> :class:`ClientEntry`; ``sizes[..].clients`` are drawn.
        groups: model groups; class i uses group ``i mod len(groups)``.
        dtypes: (weight dtype, probability) pairs; the compute dtype is the default.
        class_names: classes are named ``{architecture}-{i}`` or ``{group label}-{i}``.
        client_after_tokens: a class's client is drawn after its tokens rather than
            before (the two families' historical draw orders, kept so that shipped
            instances regenerate byte for byte).
        rate_fraction: share of classes that get an arrival rate (one request of
            that weight, U(``rates``), 3 digits) instead of a count U{1..max_count}.
        rates: (least, largest) arrival rate, requests per second.
        sla: the SLA calibration rule.
        granularity: ``block`` or ``sublayer`` for every model.
        work_unit: ``FLOP`` or ``s``.
        classes: overrides the size's number of request classes.
        count: every class gets exactly this count (no load draw).
        prompt_tokens, output_tokens: every text class gets this many (capped by
            its context as above; vision models keep their fixed count, encoders 0).
        client: every class is served to this client of ``clients`` (the only
            client of the scenario; its drawn budget, or the midpoint if not drawn).
        sla_stream: ``None``: SLAs continue the instance's random stream; ``k``:
            they are drawn from ``numpy.random.default_rng([seed, k])`` (sweeps use
            one fixed stream so each point of a sweep gets the same SLA draws).
        cost_model: ``calibrated`` (default) or ``uncalibrated-roofline``, the
            pre-calibration model kept only for comparison
            (:mod:`splitopt.scenario.cost_models`). Every draw is the same under
            both; the SLAs follow each model's latencies (same draws, same rule).
        token_lengths: ``None`` (default): the groups' log-uniform token ranges;
            ``azure-conv`` / ``azure-code``: a text class's (prompt, output) tokens are
            one request of the Azure LLM inference trace 2023 drawn uniformly
            (``splitopt/data/token_lengths.json``; CC BY 4.0, Patel et al., "Splitwise",
            ISCA 2024), capped by the context as above; an encoder keeps no output.
    """

    name: str
    description: str
    sizes: Mapping[str, SizeSpec]
    servers: tuple[str, ...]
    clients: Mapping[str, ClientEntry]
    groups: tuple[ModelGroup, ...]
    dtypes: tuple[tuple[str, float], ...]
    class_names: Literal["architecture", "group"] = "architecture"
    client_after_tokens: bool = False
    rate_fraction: float = 0.0
    rates: tuple[float, float] = (0.05, 2.0)
    sla: SlaRule = field(default_factory=SlaRule)
    granularity: str = "block"
    work_unit: str = "FLOP"
    classes: int | None = None
    count: int | None = None
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    client: str | None = None
    sla_stream: int | None = None
    cost_model: str = CALIBRATED
    token_lengths: str | None = None

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "sizes", MappingProxyType(dict(self.sizes)))
        s(self, "clients", MappingProxyType(dict(self.clients)))
        s(self, "servers", tuple(self.servers))
        s(self, "groups", tuple(self.groups))
        s(self, "dtypes", tuple((str(d), float(p)) for d, p in self.dtypes))
        _check(self)

    def replace(self, **changes: object) -> ScenarioFamily:
        """A new family with some fields changed (validated; unknown fields are an error)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise FamilyError(
                f"{self.name}: unknown family setting(s) {', '.join(sorted(unknown))}; "
                f"valid: {', '.join(f.name for f in dataclasses.fields(self))}"
            )
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def only_architectures(self, names: Sequence[str]) -> ScenarioFamily:
        """A family whose groups draw only from ``names`` (in that order); groups
        left without an architecture are dropped."""
        groups = []
        for g in self.groups:
            keep = tuple(a for a in names if a in g.architectures)
            if keep:
                groups.append(dataclasses.replace(g, architectures=keep))
        missing = [a for a in names if not any(a in g.architectures for g in self.groups)]
        if missing:
            raise FamilyError(f"{self.name}: architecture(s) not in the family: {missing}")
        return self.replace(groups=tuple(groups))

    def build(self, seed: int, size: str = "small") -> FamilyInstance:
        """The seeded instance at ``size`` (see :func:`build`)."""
        return build(self, seed, size)

    def generate(self, seed: int, size: str = "small") -> Problem:
        """The seeded instance's problem."""
        return build(self, seed, size).problem


@dataclass(frozen=True)
class FamilyInstance:
    """What :func:`build` makes: the scenario and its compiled problem (same SLAs)."""

    scenario: Scenario
    problem: Problem


def _check(f: ScenarioFamily) -> None:
    """Validate a family's tables and overrides (:class:`FamilyError` on the first fault)."""

    def bad(what: str) -> FamilyError:
        return FamilyError(f"family {f.name}: {what}")

    def rng_ok(r: tuple[float, float], least: float) -> bool:
        return len(r) == 2 and least <= r[0] <= r[1]

    if not f.sizes:
        raise bad("needs at least one size")
    for sname, sz in f.sizes.items():
        if sz.classes < 1 or sz.clients < 1 or sz.max_count < 1:
            raise bad(f"size {sname}: classes, clients and max_count must be >= 1")
        if sz.clients > len(f.clients):
            raise bad(f"size {sname}: {sz.clients} clients but the table has {len(f.clients)}")
    if not f.servers:
        raise bad("needs at least one server")
    for dev in f.servers:
        if dev not in DEVICES:
            raise bad(f"unknown server device {dev!r}")
    for cname, c in f.clients.items():
        if c.device not in DEVICES:
            raise bad(f"client {cname}: unknown device {c.device!r}")
        if c.network not in NETWORKS:
            raise bad(f"client {cname}: unknown network {c.network!r}")
        if not rng_ok(c.budget_bytes, 0.0):
            raise bad(f"client {cname}: budget range must be 0 <= least <= largest")
    if not f.groups:
        raise bad("needs at least one model group")
    for g in f.groups:
        if not g.architectures:
            raise bad(f"group {g.label}: no architectures")
        for a in g.architectures:
            if a not in ARCHITECTURES:
                raise bad(f"group {g.label}: unknown architecture {a!r}")
            arch = ARCHITECTURES[a]
            if g.prompt_tokens is None and arch.fixed_tokens is None:
                raise bad(f"group {g.label}: {a} needs a prompt_tokens range")
            if g.output_tokens is not None and not arch.generates:
                raise bad(f"group {g.label}: {a} does not generate tokens")
        if g.prompt_tokens is not None and not rng_ok(g.prompt_tokens, 1):
            raise bad(f"group {g.label}: prompt_tokens range must be 1 <= least <= largest")
        if g.output_tokens is not None and not rng_ok(g.output_tokens, 1):
            raise bad(f"group {g.label}: output_tokens range must be 1 <= least <= largest")
    if not f.dtypes:
        raise bad("needs at least one dtype")
    for d, p in f.dtypes:
        if d not in WEIGHT_DTYPES:
            raise bad(f"unknown dtype {d!r}; valid: {', '.join(WEIGHT_DTYPES)}")
        if p < 0:
            raise bad(f"dtype {d}: probability must be >= 0")
    if abs(sum(p for _, p in f.dtypes) - 1.0) > 1e-9:
        raise bad("dtype probabilities must sum to 1")
    if f.class_names not in ("architecture", "group"):
        raise bad(f"class_names must be 'architecture' or 'group', got {f.class_names!r}")
    if not 0.0 <= f.rate_fraction <= 1.0:
        raise bad("rate_fraction must be in [0, 1]")
    if not rng_ok(f.rates, 0.0) or f.rates[0] <= 0:
        raise bad("rates must be 0 < least <= largest")
    r = f.sla
    if min(r.infeasible_frac, r.generous_frac) < 0 or r.infeasible_frac + r.generous_frac > 1:
        raise bad("SLA fractions must be >= 0 and sum to at most 1")
    if not rng_ok(r.binding, 0.0):
        raise bad("SLA binding range must be 0 <= least <= largest")
    if f.granularity not in GRANULARITIES:
        raise bad(f"unknown granularity {f.granularity!r}; valid: {', '.join(GRANULARITIES)}")
    if f.work_unit not in WORK_UNITS:
        raise bad(f"unknown work unit {f.work_unit!r}; valid: {', '.join(WORK_UNITS)}")
    for key, least in (("classes", 1), ("count", 1), ("prompt_tokens", 1), ("output_tokens", 0)):
        v = getattr(f, key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < least):
            raise bad(f"{key} must be an integer >= {least}, got {v!r}")
    if f.client is not None and f.client not in f.clients:
        raise bad(f"unknown client {f.client!r}; valid clients: {', '.join(f.clients)}")
    if f.cost_model not in COST_MODELS:
        raise bad(f"unknown cost model {f.cost_model!r}; valid: {', '.join(COST_MODELS)}")
    if f.token_lengths is not None and f.token_lengths not in TOKEN_LENGTHS:
        raise bad(f"unknown token_lengths {f.token_lengths!r}; valid: {', '.join(TOKEN_LENGTHS)}")
    stream = f.sla_stream
    if stream is not None and (isinstance(stream, bool) or not isinstance(stream, int)):
        raise bad(f"sla_stream must be an integer or None, got {f.sla_stream!r}")


#: Empirical (prompt, output) token distributions a family may draw from.
TOKEN_LENGTHS = ("azure-conv", "azure-code")


@functools.cache
def token_pairs(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(prompt tokens, output tokens) of every request of trace distribution ``name``."""
    doc = json.loads(resources.files("splitopt").joinpath("data/token_lengths.json").read_text())
    return np.asarray(doc[name]["prompt"]), np.asarray(doc[name]["output"])


def _log_uniform_int(rng: np.random.Generator, lo: int, hi: int) -> int:
    return round(float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))


def build(family: ScenarioFamily, seed: int, size: str = "small") -> FamilyInstance:
    """The seeded instance of ``family`` at ``size``: scenario objects drawn,
    each class costed once, SLAs calibrated on those chains, problem assembled."""
    if size not in family.sizes:
        raise FamilyError(f"unknown size {size!r}; valid sizes: {', '.join(family.sizes)}")
    spec = family.sizes[size]
    rng = np.random.default_rng(seed)
    server = family.servers[int(rng.integers(len(family.servers)))]
    names = list(family.clients)
    chosen = [names[i] for i in sorted(rng.choice(len(names), spec.clients, replace=False))]
    clients: dict[str, ClientSpec] = {}
    for cname in chosen:
        entry = family.clients[cname]
        budget = float(f"{rng.uniform(*entry.budget_bytes):.3g}")
        clients[cname] = _client(cname, entry, budget)
    models: dict[str, ModelSpec] = {}
    n_classes = spec.classes if family.classes is None else family.classes
    classes = tuple(_draw_class(family, spec, i, chosen, models, rng) for i in range(n_classes))
    if family.client is not None:  # the sweep's client is the scenario's only one
        c, entry = family.client, family.clients[family.client]
        clients = {c: clients.get(c) or _client(c, entry, entry.mid_budget_bytes)}
    draft = Scenario(
        name=f"{family.name}-{size}-s{seed}",
        description=family.description.format(clients=len(chosen), server=server, seed=seed),
        work_unit=family.work_unit,
        server=ServerSpec(DEVICES[server]),
        clients=clients,
        models=models,
        requests=classes,
    )
    chains = class_chains(draft, family.cost_model)
    sla_rng = rng if family.sla_stream is None else np.random.default_rng([seed, family.sla_stream])
    slas = calibrate_slas(chains, sla_rng, family.sla)
    scenario = dataclasses.replace(
        draft,
        requests=tuple(
            dataclasses.replace(rc, sla_s=s) for rc, s in zip(draft.requests, slas, strict=True)
        ),
    )
    final = [c.replace(sla_s=s) for c, s in zip(chains, slas, strict=True)]
    return FamilyInstance(scenario, assemble_problem(scenario, final))


def _draw_class(
    family: ScenarioFamily,
    spec: SizeSpec,
    i: int,
    chosen: list[str],
    models: dict[str, ModelSpec],
    rng: np.random.Generator,
) -> RequestClass:
    """Request class ``i`` (its model is added to ``models``), SLA not yet calibrated."""
    group = family.groups[i % len(family.groups)]
    arch_name = group.architectures[int(rng.integers(len(group.architectures)))]
    arch = ARCHITECTURES[arch_name]
    dtypes = [d for d, _ in family.dtypes]
    dtype = dtypes[int(rng.choice(len(dtypes), p=[p for _, p in family.dtypes]))]
    mname = f"{arch_name}-{dtype}"
    if mname not in models:
        models[mname] = ModelSpec(mname, arch, dtype, DEFAULT_COMPUTE[dtype], family.granularity)
    client = ""
    if not family.client_after_tokens:
        client = chosen[int(rng.integers(len(chosen)))]
    ctx = arch.max_context
    g = 0
    if family.token_lengths is not None and group.prompt_tokens is not None:
        prompts, outputs = token_pairs(family.token_lengths)
        k = int(rng.integers(len(prompts)))
        room = 1 if arch.generates else 0
        n = max(1, min(int(prompts[k]), ctx - room))
        if group.output_tokens is not None:
            g = min(int(outputs[k]), ctx - n)
    elif group.prompt_tokens is None:
        n = int(arch.fixed_tokens)  # type: ignore[arg-type]
    else:
        room = 1 if arch.generates else 0
        n = min(_log_uniform_int(rng, *group.prompt_tokens), ctx - room)
    drawn_pair = family.token_lengths is not None and group.prompt_tokens is not None
    if group.output_tokens is not None and not drawn_pair:
        g = min(_log_uniform_int(rng, *group.output_tokens), ctx - n)
    if family.client_after_tokens:
        client = chosen[int(rng.integers(len(chosen)))]
    count, rate = 1, None
    if family.count is not None:
        count = family.count
    elif family.rate_fraction <= 0.0 or rng.random() < 1.0 - family.rate_fraction:
        count = int(rng.integers(1, spec.max_count + 1))
    else:
        rate = float(f"{rng.uniform(*family.rates):.3g}")
    # sweep overrides: applied after the draws, so nothing else changes
    if family.prompt_tokens is not None and arch.fixed_tokens is None:
        n = int(min(family.prompt_tokens, ctx - g))
    if family.output_tokens is not None and arch.generates:
        g = int(min(family.output_tokens, ctx - n))
    if family.client is not None:
        client = family.client
    label = arch_name if family.class_names == "architecture" else group.label.lower()
    return RequestClass(
        name=f"{label}-{i}",
        client=client,
        model=mname,
        prompt_tokens=n,
        output_tokens=g,
        sla_s=_UNCALIBRATED_SLA_S,
        count=count,
        rate=rate,
    )


def _client(name: str, entry: ClientEntry, budget: float) -> ClientSpec:
    return ClientSpec(name, DEVICES[entry.device], NETWORKS[entry.network], budget)


def latency_bounds(chain: Chain) -> tuple[float, float, float]:
    """(least latency of any placement, all-client latency, all-server latency), seconds.

    Memory and the SLA are ignored; the least latency is a two-state shortest path.
    """
    L = chain.num_layers
    return (
        min_latency(chain),
        score(chain, "C" * L).latency_s,
        score(chain, "S" * L).latency_s,
    )


def calibrate_slas(
    chains: Sequence[Chain], rng: np.random.Generator, rule: SlaRule = SlaRule()
) -> list[float]:
    """One SLA per chain (seconds) by ``rule`` (:class:`SlaRule`), drawn in order."""
    slas = []
    for chain in chains:
        t_min, t_client, t_server = latency_bounds(chain)
        u = rng.random()
        raise_to = t_server * rng.uniform(1.0, 1.5)
        if u < rule.infeasible_frac:
            sla = t_min * rng.uniform(0.6, 0.95)
        else:
            if t_client <= t_min * (1 + 1e-6):
                sla = t_min * rng.uniform(1.0, 1.5)
            elif u < rule.infeasible_frac + rule.generous_frac:
                sla = t_client * rng.uniform(1.0, 1.2)
            else:
                sla = t_min + rng.uniform(*rule.binding) * (t_client - t_min)
            if chain.client_memory_bytes.sum() > chain.budget:
                sla = max(sla, raise_to)
        slas.append(float(f"{sla * 1.00005:.4g}") if sla > 0 else 1e-6)
    return slas
