"""Instance-level figures of SPEC §2: server-only reference, workload reduction,
gains between solvers, throughput. All from the evaluator's numbers."""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np

from splitopt.batch_evaluate import score_flat
from splitopt.evaluate import BATCH_MIN_CHAINS, RTOL, feasible_mask, score_batch
from splitopt.problem import Problem
from splitopt.ragged import batch_of
from splitopt.solution import Result

_SERVER_ONLY: dict[int, tuple[weakref.ref, tuple[np.ndarray, np.ndarray]]] = {}


def server_only_figures(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Per-request server-only work W(S…S) and whether server-only is feasible
    (read-only arrays; computed once per problem object while it lives)."""
    key = id(problem)
    hit = _SERVER_ONLY.get(key)
    if hit is not None and hit[0]() is problem:
        return hit[1]
    k = len(problem.chains)
    if k >= BATCH_MIN_CHAINS:  # all chains at once, the same figures (batch_evaluate)
        batch = batch_of(problem)
        _, work, _, ok = score_flat(batch, np.ones(int(batch.offsets[-1]), bool), None, RTOL)
    else:
        work = np.empty(k)
        ok = np.empty(k, dtype=bool)
        for j, c in enumerate(problem.chains):
            lat, w, mem = score_batch(c, np.ones((1, c.num_layers), dtype=bool))
            work[j] = w[0]
            ok[j] = feasible_mask(c, lat, mem)[0]
    idx = problem.chain_index
    out = (_frozen(work[idx]), _frozen(ok[idx]))
    _SERVER_ONLY[key] = (weakref.ref(problem), out)
    weakref.finalize(problem, _SERVER_ONLY.pop, key, None)
    return out


def _frozen(a: np.ndarray) -> np.ndarray:
    return np.frombuffer(a.tobytes(), dtype=a.dtype)


@dataclass(frozen=True)
class Summary:
    """Headline figures of one result.

    ``reduction_vs_server_only`` = 1 − Σ ω W(x) / Σ ω W(S…S) over the requests
    where both x and server-only are feasible (NaN when there are none).
    """

    requests: int
    feasible: int
    infeasible: int
    objective: float
    server_only_work: float
    server_only_infeasible: int
    reduction_vs_server_only: float
    mean_latency_s: float


def summarize(result: Result) -> Summary:
    """Headline figures of a result (weights ω applied throughout)."""
    ev = result.evaluation
    w = ev.weights
    so_work, so_ok = server_only_figures(result.problem)
    both = ev.feasible & so_ok
    denom = float(np.dot(w[both], so_work[both]))
    red = 1.0 - float(np.dot(w[both], ev.server_work[both])) / denom if denom > 0 else math.nan
    f = ev.feasible
    wsum = float(w[f].sum())
    mean_lat = float(np.dot(w[f], ev.latency_s[f]) / wsum) if wsum > 0 else math.nan
    return Summary(
        requests=len(result.statuses),
        feasible=int(f.sum()),
        infeasible=int((~f).sum()),
        objective=result.objective,
        server_only_work=float(np.dot(w, so_work)),
        server_only_infeasible=int((~so_ok).sum()),
        reduction_vs_server_only=red,
        mean_latency_s=mean_lat,
    )


@dataclass(frozen=True)
class Gain:
    """Gain of solver A over baseline B on the requests feasible for both.

    ``work_gain`` = (W_B − W_A) / W_B; ``throughput_gain`` = W_B / W_A − 1.
    """

    work_gain: float
    throughput_gain: float
    common: int


def gain(a: Result, b: Result) -> Gain:
    """Gain of ``a`` over ``b`` (same problem)."""
    if a.problem is not b.problem and a.problem.ids != b.problem.ids:
        raise ValueError("results are for different problems")
    both = a.evaluation.feasible & b.evaluation.feasible
    w = a.evaluation.weights
    wa = float(np.dot(w[both], a.evaluation.server_work[both]))
    wb = float(np.dot(w[both], b.evaluation.server_work[both]))
    wg = (wb - wa) / wb if wb > 0 else math.nan
    tg = wb / wa - 1.0 if wa > 0 else (math.inf if wb > 0 else math.nan)
    return Gain(wg, tg, int(both.sum()))


def throughput(result: Result, capacity: float) -> float:
    """Requests per second the server sustains: capacity / (Σ ω W / Σ ω) over
    feasible requests; ``capacity`` in work units per second."""
    ev = result.evaluation
    f = ev.feasible
    mean_work = float(np.dot(ev.weights[f], ev.server_work[f]) / ev.weights[f].sum())
    return capacity / mean_work if mean_work > 0 else math.inf


# ------------------------------------------------------- full accounting
#
# The "both feasible" figures above leave out every request one of the two
# solvers cannot serve, which are exactly the requests where an exact split helps
# most. The charged figures below count every request: a request a solver does not
# serve is charged its server-only work W(S…S) (the declared penalty: the server
# would run it whole and still miss its SLA). See paper/PROTOCOL.md.


def charged_work(result: Result, server_only_work: np.ndarray | None = None) -> float:
    """Σ ω W(x) over served requests + Σ ω W(S…S) over unserved ones (work units).

    ``server_only_work``: per-request W(S…S) if already computed
    (:func:`server_only_figures`)."""
    ev = result.evaluation
    so = server_only_figures(result.problem)[0] if server_only_work is None else server_only_work
    per = np.where(ev.feasible, ev.server_work, so)
    return float(np.dot(ev.weights, per))


@dataclass(frozen=True)
class Accounting:
    """Solver A against baseline B over *all* requests.

    ``served_a``/``served_b``: requests each serves; ``only_a``: served by A but not
    by B (``only_b`` the converse); ``charged_a``/``charged_b``: :func:`charged_work`;
    ``charged_gain`` = (C_B − C_A) / C_B over all requests; ``common_gain`` the
    :class:`Gain` work gain over the ``common`` requests both serve.
    """

    requests: int
    served_a: int
    served_b: int
    only_a: int
    only_b: int
    common: int
    charged_a: float
    charged_b: float
    charged_gain: float
    common_gain: float


def accounting(a: Result, b: Result) -> Accounting:
    """Full accounting of ``a`` against ``b`` (same problem), see :class:`Accounting`."""
    g = gain(a, b)
    so = server_only_figures(a.problem)[0]
    fa, fb = a.evaluation.feasible, b.evaluation.feasible
    ca, cb = charged_work(a, so), charged_work(b, so)
    return Accounting(
        requests=len(fa),
        served_a=int(fa.sum()),
        served_b=int(fb.sum()),
        only_a=int((fa & ~fb).sum()),
        only_b=int((fb & ~fa).sum()),
        common=g.common,
        charged_a=ca,
        charged_b=cb,
        charged_gain=(cb - ca) / cb if cb > 0 else math.nan,
        common_gain=g.work_gain,
    )


def charged_reduction(result: Result) -> float:
    """1 − C_A / Σ ω W(S…S) over all requests (unserved ones charged W(S…S))."""
    so = server_only_figures(result.problem)[0]
    total = float(np.dot(result.evaluation.weights, so))
    return 1.0 - charged_work(result, so) / total if total > 0 else math.nan
