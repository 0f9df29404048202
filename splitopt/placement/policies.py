"""The online policies of the simulator as one registry (:data:`POLICIES`).

A policy is ``placement+routing`` (e.g. ``cg-bp+ws-rr``): a :class:`Policy` value holds
its placement's name, its routing (a :class:`Routing`, whose ``mode`` is the integer
the simulator kernel takes, :mod:`splitopt.placement.sim_kernel`), the typed options
it reads (:class:`PolicyOptions`) and its *builder*: a lazy ``"module:function"``
``(cluster, workload, policy, seed, options) -> Prepared`` that builds the placement,
its cache budget (and chains) ready to simulate. Every policy the simulator accepts is
registered here once; :mod:`splitopt.placement.online` reads its tables
(``PLACEMENTS``, ``ROUTINGS``, ``DEFAULT_ROUTING``) from this module, and
:func:`prepare` dispatches through the registry.

Adding a policy: one :func:`register` call (in this module for the shipped ones) with
its builder; a new routing also needs a kernel mode. How experiments draw it (label,
colour, marker) is one row of :mod:`splitopt.experiments.policy_display`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from splitopt.errors import SolverError
from splitopt.placement.sim_kernel import MODE_PETALS, MODE_SHORTEST, MODE_WS_RR
from splitopt.registry import Registry

if TYPE_CHECKING:
    from splitopt.placement.model import Cluster
    from splitopt.placement.simulate import Workload

#: ``splitopt.placement.online.Prepared`` (not imported: ``online`` imports this module).
Prepared = Any


# -- typed options ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PolicyOptions:
    """Options a policy's builder reads (``None`` = its default rule).

    Attributes:
        R: design concurrency of ``cg-bp`` and the ``petals-cg-*`` ablations (default:
            the paper's rule ``design_R``).
        c: cache reservation of ``gbp-cr`` in requests per chain (default: ours, the
            best simulated c).
        attn_cache_tokens: PETALS's attention cache per hosted block (default 4096).
        sim_opt_seeds: training runs per candidate R of ``sim-opt`` (default 3).
        rule: ``(b, p)`` of ``sim-opt-rule``'s R = min(max(round(b (lam T1)^p), 1), R_max)
            (default: the tuned pair, ``online.SIM_OPT_RULE``).

    One options mapping is shared by every policy of a comparison (``simulate --R 8``
    applies to the policies that read R), so an option a policy does not read is not an
    error; a name no policy reads is (a typo).
    """

    R: int | None = None
    c: int | None = None
    attn_cache_tokens: int | None = None
    sim_opt_seeds: int | None = None
    rule: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.rule is not None:
            r = self.rule
            ok = isinstance(r, (tuple, list)) and len(r) == 2
            ok = ok and all(
                isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)
                for x in r
            )
            if not ok:
                raise SolverError(f"policy option 'rule' must be two finite numbers (b, p): {r!r}")
            object.__setattr__(self, "rule", (float(r[0]), float(r[1])))
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None or f.name == "rule":
                continue
            ok = isinstance(v, numbers.Real) and not isinstance(v, bool)  # numpy numbers too
            if not ok or not math.isfinite(v) or v != int(v) or v < 1:
                raise SolverError(f"policy option {f.name!r} must be a whole number >= 1: {v!r}")
            object.__setattr__(self, f.name, int(v))

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_options(cls, policy: str, options: Mapping[str, Any] | None) -> PolicyOptions:
        """The value of flat ``options``; a name no policy reads is a :class:`SolverError`."""
        given = {k: v for k, v in (options or {}).items() if v is not None}
        unknown = [k for k in given if k not in cls.names()]
        if unknown:
            raise SolverError(
                f"policy {policy!r}: unknown option {unknown[0]!r} "
                f"(policy options: {', '.join(cls.names())})"
            )
        return cls(**given)

    def to_options(self) -> dict[str, Any]:
        """The options that are set, as the builders read them."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


# -- routings ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Routing:
    """A routing: its name, the simulator kernel's mode (``None``: the chain kernel of
    ``jffc``, which routes over fixed chains) and a one-line description."""

    name: str
    mode: int | None
    description: str


ROUTINGS: Registry[Routing] = Registry("routing", SolverError)
for _r in (
    Routing("ws-rr", MODE_WS_RR, "waiting-penalised shortest path (WS_RR.m)"),
    Routing("petals", MODE_PETALS, "PETALS's min-latency routing with retries"),
    Routing("jffc", None, "join the fastest free chain (over GCA's chains)"),
    Routing("shortest", MODE_SHORTEST, "shortest path, waiting not penalised"),
):
    ROUTINGS.register(_r.name, _r)


# -- policies ---------------------------------------------------------------------------------
#: The builder of the shipped placements (``online.prepare``, one branch per placement).
BUILTIN = "splitopt.placement.online:prepare"


@dataclass(frozen=True)
class Policy:
    """One registered ``placement+routing`` policy.

    Attributes:
        placement: the placement's name (``cg-bp``, ``petals``, ...).
        routing: a registered :class:`Routing` name.
        build: ``"module:function"`` ``(cluster, workload, policy, seed, options) ->
            Prepared``.
        options: the :class:`PolicyOptions` fields the builder reads.
        default: this routing is the placement's default (its name without ``+``).
        description: one line.
    """

    placement: str
    routing: str
    build: str = BUILTIN
    options: tuple[str, ...] = ()
    default: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if self.routing not in ROUTINGS:
            ROUTINGS.get(self.routing)  # raises, listing the routings
        bad = [o for o in self.options if o not in PolicyOptions.names()]
        if bad:
            raise SolverError(f"policy {self.name!r}: unknown option {bad[0]!r}")

    @property
    def name(self) -> str:
        return f"{self.placement}+{self.routing}"

    @property
    def mode(self) -> int | None:
        """The kernel's routing mode (``None`` for the chain kernel)."""
        return ROUTINGS.get(self.routing).mode

    def prepare(
        self,
        cluster: Cluster,
        workload: Workload,
        seed: int,
        options: Mapping[str, Any] | PolicyOptions | None = None,
        semantics: Any = None,
    ) -> Prepared:
        """Build this policy's placement for ``workload`` (``seed``: PETALS's join order).
        ``semantics`` (a name or :class:`~splitopt.placement.semantics.Semantics`) is
        passed to the builder as a sixth argument unless it is the default."""
        import importlib

        opts = (
            options
            if isinstance(options, PolicyOptions)
            else PolicyOptions.from_options(self.name, options)
        )
        module, fn = self.build.split(":")
        builder = getattr(importlib.import_module(module), fn)
        name = getattr(semantics, "name", semantics)
        if semantics is None or name == "splitopt":
            return builder(cluster, workload, self.name, seed, opts.to_options())
        return builder(cluster, workload, self.name, seed, opts.to_options(), semantics)


POLICIES: Registry[Policy] = Registry("policy", SolverError)


def register(policy: Policy) -> Policy:
    """Register ``policy`` under its name (shadowing one warns)."""
    POLICIES.register(policy.name, policy)
    return policy


def get_policy(name: str) -> Policy:
    """The policy ``name`` (``placement+routing``, or a placement alone for its default
    routing); :class:`SolverError` names what is unknown."""
    text = name.strip()
    if "+" not in text:
        for p in POLICIES:
            pol = POLICIES.get(p)
            if pol.placement == text and pol.default:
                return pol
    return POLICIES.get(text)


def prepare(
    cluster: Cluster,
    workload: Workload,
    policy: str,
    seed: int,
    options: Mapping[str, Any] | None = None,
    semantics: Any = None,
) -> Prepared:
    """Build ``policy``'s placement through its registered builder (under ``semantics``)."""
    return get_policy(policy).prepare(cluster, workload, seed, options, semantics)


# The shipped placements (SPEC-PLACEMENT P2/P3; see splitopt.placement.online for each),
# each with every routing but jffc, which routes over gbp-cr's chains only; the first
# routing listed is the placement's default.
_SHIPPED: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...] = (
    ("cg-bp", ("ws-rr", "petals", "shortest"), ("R",), "CG-BP for a design concurrency R"),
    ("petals", ("petals", "ws-rr", "shortest"), ("attn_cache_tokens",), "PETALS's placement"),
    (
        "petals-cg-order",
        ("petals", "ws-rr", "shortest"),
        ("R", "attn_cache_tokens"),
        "PETALS, servers join in CG-BP's amortised-time order",
    ),
    (
        "petals-cg-counts",
        ("petals", "ws-rr", "shortest"),
        ("R", "attn_cache_tokens"),
        "PETALS with CG-BP's block counts for R",
    ),
    (
        "petals-cg-order-paper",
        ("petals", "ws-rr", "shortest"),
        ("R", "attn_cache_tokens"),
        "the paper's Optimized Order: PETALS with CG-BP's own order",
    ),
    (
        "petals-cg-counts-paper",
        ("petals", "ws-rr", "shortest"),
        ("R", "attn_cache_tokens"),
        "the paper's Optimized Number: CG-BP's counts, all free memory as cache",
    ),
    ("gbp-cr", ("jffc",), ("c",), "GBP-CR chains, c requests of cache each (GCA)"),
    (
        "sim-opt",
        ("ws-rr", "petals", "shortest"),
        ("sim_opt_seeds",),
        "ours: CG-BP whose R is chosen by simulation on the evaluated cell",
    ),
    (
        "sim-opt-rule",
        ("ws-rr", "petals", "shortest"),
        ("rule",),
        "ours: CG-BP with R = b (lam T1)^p, (b, p) tuned on disjoint draws",
    ),
)
for _pl, _routings, _opts, _desc in _SHIPPED:
    for _i, _rt in enumerate(_routings):
        register(Policy(_pl, _rt, options=_opts, default=_i == 0, description=_desc))


def placements() -> tuple[str, ...]:
    """Every registered placement, in registration order."""
    return tuple(dict.fromkeys(POLICIES.get(p).placement for p in POLICIES))


def default_routing() -> dict[str, str]:
    """placement -> its default routing."""
    out: dict[str, str] = {}
    for p in POLICIES:
        pol = POLICIES.get(p)
        if pol.default:
            out.setdefault(pol.placement, pol.routing)
    return out


__all__ = [
    "BUILTIN",
    "POLICIES",
    "ROUTINGS",
    "Policy",
    "PolicyOptions",
    "Routing",
    "default_routing",
    "get_policy",
    "placements",
    "prepare",
    "register",
]
