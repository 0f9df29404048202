"""Why a request is not served: a reason computed from the evaluator's quantities.

For a request without a feasible placement the cause is one of

- ``sla-below-fastest``: the SLA is below the least latency any placement achieves
  (:func:`~splitopt.evaluate.min_latency`, memory ignored): no placement can meet it;
- ``memory-below-footprint``: some placements meet the SLA, but the least client
  memory among them exceeds the memory budget. That least footprint is exact: the
  chain is mirrored (client ↔ server, uplink ↔ downlink, ``server_work`` := client
  memory) and solved by the exact label DP, then re-scored by the evaluator;
- ``not-found``: a placement meeting both exists (the least-footprint one, given as
  ``witness``): the solver did not find it (a heuristic, a coarse grid, a time limit);
- ``not-analysed``: the SLA is reachable but the chain is longer than
  :data:`MAX_ANALYSED_LAYERS`, so the footprint was not computed.

Every figure is the evaluator's, in seconds and bytes. Reasons are computed per
distinct chain (requests that share a chain share the analysis).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from splitopt.evaluate import RTOL, format_placement, min_latency, score
from splitopt.problem import Chain
from splitopt.solution import Result

CODES = ("sla-below-fastest", "memory-below-footprint", "not-found", "not-analysed")
#: Longest chain whose least memory footprint is computed exactly (ours: the label DP
#: on longer chains may take long); longer ones get ``not-analysed`` past the SLA check.
MAX_ANALYSED_LAYERS = 5_000


@dataclass(frozen=True)
class Reason:
    """Why one request has no feasible placement.

    Attributes:
        code: one of :data:`CODES`.
        text: one line for people, with the figures.
        sla_s: the request's SLA, s.
        min_latency_s: the least latency of any placement, s (memory ignored).
        memory_budget_bytes: the client's budget, bytes (``None``: unlimited).
        min_memory_bytes: the least client memory of a placement meeting the SLA,
            bytes (``None`` when no placement meets the SLA).
        witness: a placement (``"CS…"``) meeting the SLA and the budget, when one exists.
    """

    code: str
    text: str
    sla_s: float
    min_latency_s: float
    memory_budget_bytes: float | None
    min_memory_bytes: float | None
    witness: str | None = None

    @property
    def short(self) -> str:
        """A few words for a table cell, e.g. ``SLA 0.3 s < fastest 0.44 s``."""
        if self.code == "sla-below-fastest":
            return f"SLA {self.sla_s:.3g} s < fastest {self.min_latency_s:.3g} s"
        if self.code == "memory-below-footprint":
            assert self.memory_budget_bytes is not None and self.min_memory_bytes is not None
            return (
                f"memory {_bytes(self.memory_budget_bytes)} < footprint "
                f"{_bytes(self.min_memory_bytes)}"
            )
        if self.code == "not-found":
            return "feasible, not found"
        return "not analysed"

    def to_dict(self) -> dict:
        """The reason as a JSON object (what ``solve --json`` writes per request)."""
        return {
            "code": self.code,
            "text": self.text,
            "sla_s": self.sla_s,
            "min_latency_s": self.min_latency_s,
            "memory_budget_bytes": self.memory_budget_bytes,
            "min_memory_bytes": self.min_memory_bytes,
            "witness": self.witness,
        }


def _mirror(chain: Chain) -> Chain:
    """Client ↔ server swapped, with the client's memory as the "server work": the
    least-work placement of the mirror is the least-memory placement of ``chain``
    under its SLA (no memory budget)."""
    flip = {"client": "server", "server": "client"}
    return Chain(
        client_time_s=chain.server_time_s,
        server_time_s=chain.client_time_s,
        server_work=chain.client_memory_bytes,
        uplink_s=chain.downlink_s,
        downlink_s=chain.uplink_s,
        client_memory_bytes=np.zeros(chain.num_layers),
        sla_s=chain.sla_s,
        memory_budget_bytes=None,
        start=flip[chain.start],
        end=flip[chain.end],
    )


def _least_footprint(chain: Chain) -> np.ndarray | None:
    """The placement of ``chain`` meeting its SLA with the least client memory, or None."""
    from splitopt.solvers import get_solver

    answer = get_solver("dp-exact").solve_chain(_mirror(chain))
    if answer.placement is None:
        return None
    return ~np.asarray(answer.placement, dtype=bool)


def _bytes(x: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(x) >= size:
            return f"{x / size:.3g} {unit}"
    return f"{x:.3g} B"


def explain(chain: Chain) -> Reason:
    """The reason a request of ``chain`` is (or would be) unserved; see the module."""
    fastest = min_latency(chain)
    budget = chain.memory_budget_bytes
    if fastest > chain.sla_s * (1.0 + RTOL):
        return Reason(
            "sla-below-fastest",
            f"SLA {chain.sla_s:.4g} s is below the fastest placement's latency {fastest:.4g} s",
            chain.sla_s,
            fastest,
            budget,
            None,
        )
    if chain.num_layers > MAX_ANALYSED_LAYERS:
        return Reason(
            "not-analysed",
            f"the fastest placement ({fastest:.4g} s) meets the SLA; memory footprint not "
            f"analysed (chains over {MAX_ANALYSED_LAYERS:,} layers)",
            chain.sla_s,
            fastest,
            budget,
            None,
        )
    x = _least_footprint(chain)
    if x is None:  # min_latency meets the SLA, so the exact DP finds one; defensive
        return Reason(
            "sla-below-fastest",
            f"SLA {chain.sla_s:.4g} s: no placement meets it (fastest {fastest:.4g} s)",
            chain.sla_s,
            fastest,
            budget,
            None,
        )
    s = score(chain, x)
    latency, memory = s.latency_s, s.client_memory_bytes
    if budget is not None and memory > budget * (1.0 + RTOL):
        return Reason(
            "memory-below-footprint",
            f"memory budget {_bytes(budget)} is below the smallest client footprint "
            f"{_bytes(memory)} of any placement meeting the {chain.sla_s:.4g} s SLA",
            chain.sla_s,
            fastest,
            budget,
            float(memory),
        )
    witness = format_placement(x)
    return Reason(
        "not-found",
        f"not found by this solver: {witness} meets the SLA ({latency:.4g} s) and the memory "
        "budget",
        chain.sla_s,
        fastest,
        budget,
        float(memory),
        witness,
    )


def reasons(result: Result) -> dict[str, Reason]:
    """A :class:`Reason` for every request of ``result`` the evaluator finds unserved,
    by request id (requests sharing a chain share one analysis)."""
    cache: dict[int, Reason] = {}
    out: dict[str, Reason] = {}
    requests = result.problem.requests
    for i in np.flatnonzero(~np.asarray(result.evaluation.feasible, bool)).tolist():
        req = requests[i]  # only the unserved (a big problem builds requests on access)
        key = id(req.chain)
        if key not in cache:
            cache[key] = explain(req.chain)
        out[req.id] = cache[key]
    return out


def summary_line(found: dict[str, Reason]) -> str:
    """Counts by cause, e.g. ``"2 SLA below the fastest placement, 1 memory …"``."""
    labels = {
        "sla-below-fastest": "SLA below the fastest placement",
        "memory-below-footprint": "memory budget below the smallest footprint",
        "not-found": "feasible but not found",
        "not-analysed": "not analysed",
    }
    counts = {c: 0 for c in CODES}
    for r in found.values():
        counts[r.code] += 1
    return ", ".join(f"{n} {labels[c]}" for c, n in counts.items() if n) or "none"


__all__ = ["CODES", "Reason", "explain", "reasons", "summary_line"]
