"""Online policies (``placement+routing``) for the simulator (SPEC-PLACEMENT P2, P3).

Placements:

* ``cg-bp`` — CG-BP (Sun et al., arXiv:2512.21884; ``CG_BP.m``) for a design
  concurrency R; by default the paper's rule R = min(round(lam T1 + sqrt(lam T1)), R_max)
  with T1 the time of a single request (CG-BP with R = 1, shortest route, mean over the
  request classes) and R_max = floor((sum_j M_j - s_m (L + S)) / s_c / (L + S)), as
  ``test_general_case_online.m`` computes them. Cache budget: all memory left after
  the blocks.
* ``petals`` — PETALS's own placement (:mod:`splitopt.placement.petals`), join order
  drawn from the run's seed. Cache budget: PETALS's fixed ``attn_cache_tokens`` per
  hosted block.
* ``petals-cg-order`` / ``petals-cg-counts`` — ours, after the paper's ablations:
  servers join in the amortised-time order of PETALS's own counts; CG-BP's block counts
  for the design R with PETALS's fixed ``attn_cache_tokens`` cache.
* ``petals-cg-order-paper`` / ``petals-cg-counts-paper`` — the paper's "Optimized
  Order" and "Optimized Number" as the authors' code defines them: servers join in
  CG-BP's own order (``CG_BP.m``'s ``optimized_order``: amortised time of CG-BP's
  counts for the design R); CG-BP's counts with *all* free memory as cache
  (``Petals_online_hacking.m``).
* ``gbp-cr`` — GBP-CR of Sun, He, Hou (arXiv:2604.14993; ``GBP_CR.m``,
  ``place_blocks_max_chains``): counts m_j(c) = min(floor(M_j / (s_m + s_c c)), L, cap),
  servers in amortised-time order fill disjoint chains block 1..L as long as chains
  can be completed; then GCA (``GCA.m``): repeated shortest paths over servers with
  cache left, chain capacity min_j floor(residual_j / (s_c m_j)).
* ``sim-opt`` — ours: CG-BP whose design R is chosen by the simulated objective
  (mean per-token time) of CG-BP + WS-RR on the evaluated cluster itself (the same
  topology draw), at the evaluated rate and request classes; only the arrival seeds of
  its training runs (10**6 + i) differ from the evaluation's. It is tuned per
  evaluation cell: an oracle-like upper reference, not a deployable rule.
* ``sim-opt-rule`` — ours: CG-BP with R = min(max(round(b (lam T1)^p), 1), R_max), with
  (b, p) = :data:`SIM_OPT_RULE` tuned once by
  :mod:`splitopt.experiments.sim_opt_tuning` on training topology draws (seeds >= 10**6)
  and loads disjoint from every evaluation draw and load of the load study.

Routings:

* ``ws-rr`` — waiting-penalised shortest path (``WS_RR.m``): every hop costs its time
  in T_r plus its wait for cache; the request is admitted when the whole route has room.
* ``petals`` — PETALS's min-latency routing (rtt/2 + 18 ms per hop, 1/inference_rps
  per block, +10 s for a server without cache room now); a request that does not fit
  retries after 1, 2, 4, ... s (each wait capped at 60 s) on the same route (as
  ``Petals_online.m``).
* ``jffc`` — join the fastest free chain (Sun, He, Hou): over GCA's chains.

A name without ``+`` is its default pairing: ``cg-bp`` = ``cg-bp+ws-rr``, ``petals`` =
``petals+petals``, ``gbp-cr`` = ``gbp-cr+jffc``, ``sim-opt`` = ``sim-opt+ws-rr``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from splitopt.errors import SolverError
from splitopt.placement import policies as _policies
from splitopt.placement.cg import conservative_counts, greedy_placement, route_costs
from splitopt.placement.evaluate import hop_blocks
from splitopt.placement.model import Cluster, Job, Placement
from splitopt.placement.petals import (
    ALLOC_DELAY_S,
    ATTN_CACHE_TOKENS,
    OVERHEAD_S,
    Petals,
    inference_rps,
    petals_counts,
)
from splitopt.placement.routing import dag_route
from splitopt.placement.semantics import AUTHORS_ALLOC_DELAY_S, Semantics, get_semantics
from splitopt.placement.sim_kernel import (
    MODE_PETALS,
    MODE_SHORTEST,
    MODE_WS_RR,
    simulate_chains_kernel,
    simulate_joint_routes_kernel,
    simulate_routes_kernel,
)
from splitopt.placement.simulate import SimRun, Workload
from splitopt.placement.why import unhosted_blocks

# The policies are registered once, in splitopt.placement.policies; these are views of it.
PLACEMENTS = _policies.placements()
ROUTINGS = tuple(_policies.ROUTINGS.names())
DEFAULT_ROUTING = _policies.default_routing()
#: The policies compared by default (the paper's, its ablations, the follow-up's, ours).
DEFAULT_POLICIES = (
    "petals",
    "petals-cg-order+petals",
    "petals-cg-counts+petals",
    "petals+ws-rr",
    "cg-bp+ws-rr",
    "gbp-cr+jffc",
    "sim-opt+ws-rr",
)
BACKOFF_CAP_S = 60.0


def parse_policy(name: str) -> tuple[str, str]:
    """``placement+routing`` -> (placement, routing); :class:`SolverError` if unknown."""
    text = name.strip()
    try:  # a registered policy (splitopt.placement.policies), also one added at run time
        pol = _policies.get_policy(text)
        return pol.placement, pol.routing
    except SolverError:
        pass  # the checks below say what is wrong
    if "+" in text:
        pl, _, rt = text.partition("+")
    else:
        pl, rt = text, DEFAULT_ROUTING.get(text, "")
    if pl not in PLACEMENTS:
        raise SolverError(
            f"unknown placement {pl!r} in policy {name!r}; valid: {', '.join(PLACEMENTS)}"
        )
    if rt not in ROUTINGS:
        raise SolverError(
            f"unknown routing {rt!r} in policy {name!r}; valid: {', '.join(ROUTINGS)}"
        )
    if (rt == "jffc") != (pl == "gbp-cr"):
        raise SolverError(f"policy {name!r}: jffc routes over gbp-cr's chains only")
    _policies.get_policy(f"{pl}+{rt}")  # registered (raises, listing the policies)
    return pl, rt


def canonical(name: str) -> str:
    pl, rt = parse_policy(name)
    return f"{pl}+{rt}"


# -- per-class cost arrays -------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ClassCosts:
    """Per request class c and server j (seconds): T_r at j for k blocks is
    ``hop[c, j] + k * block[c, j]``; its prefill part ``pre_hop + k * pre_block``."""

    hop: np.ndarray
    block: np.ndarray
    pre_hop: np.ndarray
    pre_block: np.ndarray
    need: np.ndarray  # s_c per class: cache bytes per block
    l_out: np.ndarray


def class_costs(cluster: Cluster, classes: tuple[Job, ...]) -> ClassCosts:
    C, S = len(classes), cluster.num_servers
    hop, block, ph, pb = (np.empty((C, S)) for _ in range(4))
    for i, job in enumerate(classes):
        hop[i], block[i] = route_costs(cluster, job, "total")
        ph[i] = (
            cluster.prefill_rtt_s[job.client]
            + cluster.prefill_rtt_per_token_s[job.client] * job.l_in
        )
        pb[i] = cluster.prefill(job.l_in)
    need = np.array([cluster.model.cache_bytes(j.l_in, j.l_out) for j in classes])
    return ClassCosts(hop, block, ph, pb, need, np.array([j.l_out for j in classes]))


def lower_bound_time(cluster: Cluster, job: Job) -> float:
    """A lower bound on any policy's T_r for ``job`` (s): the least-cost cover of blocks
    1..L by server ranges, each server j running at most floor(M_j / (s_m + s_c)) blocks
    (its memory with this request alone) and its cap, servers allowed to repeat (a
    relaxation); waits are >= 0. Ours."""
    L = cluster.num_blocks
    s_c = cluster.model.cache_bytes(job.l_in, job.l_out)
    per = cluster.model.block_bytes + s_c
    mmax = np.minimum(
        np.floor(cluster.memory() * (1 + 1e-9) / per).astype(np.int64), cluster.caps()
    )
    hop, block = route_costs(cluster, job, "total")
    best = np.full(L + 1, np.inf)
    best[0] = 0.0
    for b in range(1, L + 1):
        for j in np.flatnonzero(mmax > 0):
            k = np.arange(1, min(int(mmax[j]), b) + 1)
            v = best[b - k] + hop[j] + k * block[j]
            best[b] = min(best[b], float(v.min()))
    return float(best[L])


# -- design concurrency ------------------------------------------------------------------------
def single_request_time(cluster: Cluster, workload: Workload) -> float:
    """T1: mean over the classes of a lone request's T_r on CG-BP's R = 1 placement
    (inf when a lone request has no route on it)."""
    s_c = cluster.model.cache_bytes_per_token * workload.design_time()
    counts = conservative_counts(cluster, 1, s_c)
    placement, _, _, _ = greedy_placement(cluster, counts, 1, s_c)
    times = []
    for job in workload.classes:
        hop, block = route_costs(cluster, job, "total")
        cost, _ = dag_route(placement, cluster.num_blocks, hop, block)
        times.append(cost)
    return float(np.mean(times))


def r_max(cluster: Cluster, workload: Workload) -> int:
    """floor((sum M - s_m (L + S)) / s_c / (L + S)), at least 1."""
    L, S = cluster.num_blocks, cluster.num_servers
    s_c = cluster.model.cache_bytes_per_token * workload.design_time()
    if s_c <= 0:
        return 10**6
    val = (cluster.memory().sum() - cluster.model.block_bytes * (L + S)) / s_c / (L + S)
    return max(math.floor(val), 1)


#: (b, p) of ``sim-opt-rule``: tuned by ``python -m splitopt.experiments.sim_opt_tuning``
#: (paper/generated/sim_opt_rule.json; a test checks the two agree).
SIM_OPT_RULE = (24.0, 0.25)


def power_R(cluster: Cluster, workload: Workload, b: float, p: float, extra_s: float = 0.0) -> int:
    """Ours (``sim-opt-rule``): R = min(max(round(b (lam T1)^p), 1), R_max); 1 when T1 is
    infinite (nothing servable)."""
    load = workload.rate_per_s * (single_request_time(cluster, workload) + extra_s)
    if not math.isfinite(load):
        return 1
    return max(1, min(math.floor(b * load**p + 0.5), r_max(cluster, workload)))


def design_R(cluster: Cluster, workload: Workload, extra_s: float = 0.0) -> int:
    """The paper's rule R = min(round(lam T1 + sqrt(lam T1)), R_max), at least 1;
    ``extra_s`` is added to T1 (the authors' initial delay). Ours: R = 1 when no lone
    request has a route on CG-BP's R = 1 placement (T1 infinite: nothing is servable,
    and the rule is undefined)."""
    t1 = single_request_time(cluster, workload) + extra_s
    load = workload.rate_per_s * t1
    if not math.isfinite(load):
        return 1
    # MATLAB's round (half away from zero), as the authors' scripts
    return max(1, min(math.floor(load + math.sqrt(load) + 0.5), r_max(cluster, workload)))


# -- prepared policies -------------------------------------------------------------------------
@dataclass(eq=False)
class Prepared:
    """A placement with its cache budget and routing, ready to simulate."""

    name: str
    placement: Placement | None
    cap: np.ndarray | None = None
    routing: str = "ws-rr"
    chains: list[tuple[int, ...]] = field(default_factory=list)
    slots: np.ndarray | None = None
    info: dict = field(default_factory=dict)


def cg_bp_placement(cluster: Cluster, workload: Workload, R: int) -> Placement:
    s_c = cluster.model.cache_bytes_per_token * workload.design_time()
    counts = conservative_counts(cluster, R, s_c)
    placement, _, _, _ = greedy_placement(cluster, counts, R, s_c)
    return placement


def free_memory(cluster: Cluster, placement: Placement) -> np.ndarray:
    return np.maximum(cluster.memory() - cluster.model.block_bytes * placement.count, 0.0)


def petals_cache(cluster: Cluster, placement: Placement, attn_cache_tokens: int) -> np.ndarray:
    """PETALS's attention cache: attn_cache_tokens per hosted block (within free memory)."""
    fixed = cluster.model.cache_bytes_per_token * attn_cache_tokens * placement.count
    return np.minimum(fixed, free_memory(cluster, placement))


def amortised_order(cluster: Cluster, counts: np.ndarray) -> np.ndarray:
    """Servers by CG-BP's amortised time max_c (t_cj + tau_j m_j) / m_j (hosting ones first)."""
    host = counts > 0
    t = np.full(cluster.num_servers, np.inf)
    worst = (cluster.rtt_s + cluster.decode() * counts).max(axis=0)
    t[host] = worst[host] / counts[host]
    return np.argsort(t, kind="mergesort")


def gbp_cr(cluster: Cluster, workload: Workload, c: int) -> Placement:
    """GBP-CR's ``place_blocks_max_chains`` for cache reservation c (jobs per server)."""
    L, S = cluster.num_blocks, cluster.num_servers
    s_c = cluster.model.cache_bytes_per_token * workload.design_time()
    counts = conservative_counts(cluster, c, s_c)
    order = amortised_order(cluster, counts)
    first = np.zeros(S, dtype=np.int64)
    cnt = np.zeros(S, dtype=np.int64)
    used = np.zeros(S, dtype=bool)
    cur = 1
    pending: list[int] = []
    for j in order:
        if counts[j] <= 0:
            continue
        if cur > 1 and counts[~used].sum() < L - cur + 1:
            break
        k = min(int(counts[j]), L - cur + 1)
        first[j], cnt[j] = cur, k
        used[j] = True
        pending.append(int(j))
        cur += k
        if cur > L:
            cur, pending = 1, []
    for j in pending:  # an unfinished last chain is dropped
        first[j] = cnt[j] = 0
    return Placement(first, cnt)


def gca(
    cluster: Cluster, placement: Placement, costs: ClassCosts, cls: int = 0
) -> tuple[list[tuple[int, ...]], list[int]]:
    """GCA: chains by repeated shortest paths (class ``cls``'s T_r) over servers with
    cache left; capacity min_j floor(residual_j / (s_c m_j)) (cache for the whole span)."""
    resid = free_memory(cluster, placement)
    s_c = float(costs.need.max())
    m = placement.count
    chains: list[tuple[int, ...]] = []
    slots: list[int] = []
    for _ in range(4 * cluster.num_servers + 4):
        allowed = (m > 0) & (resid * (1 + 1e-9) >= s_c * m)
        cost, route = dag_route(
            placement, cluster.num_blocks, costs.hop[cls], costs.block[cls], allowed=allowed
        )
        if not math.isfinite(cost) or not route:
            break
        cap = min(math.floor(resid[j] * (1 + 1e-9) / (s_c * m[j])) for j in route)
        if cap <= 0:
            break
        chains.append(route)
        slots.append(cap)
        for j in route:
            resid[j] -= s_c * m[j] * cap
    return chains, slots


def gbp_cr_choose_c(cluster: Cluster, workload: Workload, costs: ClassCosts) -> int:
    """Ours (the follow-up sweeps c): the c whose GCA chains give the largest service
    rate sum_k c_k / T_k (ties to the smaller c)."""
    s_c = cluster.model.cache_bytes_per_token * workload.design_time()
    free = cluster.memory() - cluster.model.block_bytes
    c_max = int(max(1, min(64, math.floor(free.max() / s_c)) if s_c > 0 else 64))
    best, best_c = -1.0, 1
    for c in range(1, c_max + 1):
        pl = gbp_cr(cluster, workload, c)
        if pl.count.sum() == 0:
            continue
        chains, slots = gca(cluster, pl, costs)
        rate = sum(
            s / chain_time(cluster, pl, costs, ch, 0) for ch, s in zip(chains, slots, strict=True)
        )
        if rate > best * (1 + 1e-9):
            best, best_c = rate, c
    return best_c


def chain_time(
    cluster: Cluster, placement: Placement, costs: ClassCosts, route: tuple[int, ...], c: int
) -> float:
    blocks = hop_blocks(placement, route, cluster.num_blocks)
    if blocks is None:
        return math.inf
    return float(
        sum(costs.hop[c, j] + k * costs.block[c, j] for j, k in zip(route, blocks, strict=True))
    )


def prepare(
    cluster: Cluster,
    workload: Workload,
    policy: str,
    seed: int,
    options: Mapping[str, Any] | None = None,
    semantics: str | Semantics = "splitopt",
) -> Prepared:
    """Build ``policy``'s placement (and chains) for ``workload``; ``seed`` drives PETALS's
    join order. Options: ``R`` (design concurrency of cg-bp / petals-cg-*), ``c``
    (gbp-cr), ``attn_cache_tokens``, ``sim_opt_seeds`` (training runs of sim-opt).
    ``semantics``: the authors' adds their initial delay to T1 of the R rule."""
    opts = dict(options or {})
    sem = get_semantics(semantics)
    pl, rt = parse_policy(policy)
    name = f"{pl}+{rt}"
    attn = int(opts.get("attn_cache_tokens", ATTN_CACHE_TOKENS))
    info: dict[str, Any] = {}
    if pl in ("cg-bp", "petals-cg-counts", "petals-cg-order") or pl.endswith("-paper"):
        R = (
            int(opts["R"])
            if opts.get("R") is not None
            else design_R(cluster, workload, sem.initial_delay_s(cluster))
        )
        info["R"] = R
    if pl == "cg-bp":
        placement = cg_bp_placement(cluster, workload, info["R"])
        cap = free_memory(cluster, placement)
    elif pl == "sim-opt-rule":
        b, p = opts.get("rule", SIM_OPT_RULE)
        R = power_R(cluster, workload, float(b), float(p), sem.initial_delay_s(cluster))
        info["R"] = R
        placement = cg_bp_placement(cluster, workload, R)
        cap = free_memory(cluster, placement)
    elif pl == "sim-opt":
        R = choose_R_by_simulation(cluster, workload, opts)
        info["R"] = R
        placement = cg_bp_placement(cluster, workload, R)
        cap = free_memory(cluster, placement)
    elif pl.startswith("petals"):
        kw: dict[str, Any] = {"seed": seed, "attn_cache_tokens": attn}
        s_c = cluster.model.cache_bytes_per_token * workload.design_time()
        if pl.startswith("petals-cg-counts"):
            kw["counts"] = conservative_counts(cluster, info["R"], s_c).tolist()
        elif pl == "petals-cg-order":
            kw["order"] = amortised_order(cluster, petals_counts(cluster, attn)).tolist()
        elif pl == "petals-cg-order-paper":
            cg = conservative_counts(cluster, info["R"], s_c)
            kw["order"] = amortised_order(cluster, np.minimum(cg, cluster.caps())).tolist()
        placement = Petals(**kw).place(cluster)
        if pl == "petals-cg-counts-paper":  # the paper's "Optimized Number": all free memory
            cap = free_memory(cluster, placement)
        else:
            cap = petals_cache(cluster, placement, attn)
    else:  # gbp-cr
        costs = class_costs(cluster, workload.classes)
        c = (
            int(opts["c"])
            if opts.get("c") is not None
            else gbp_cr_choose_c(cluster, workload, costs)
        )
        info["c"] = c
        placement = gbp_cr(cluster, workload, c)
        chains, slots = gca(cluster, placement, costs)
        info["chains"] = len(chains)
        info["slots"] = int(sum(slots))
        return Prepared(name, placement, None, rt, chains, np.array(slots, dtype=np.int64), info)
    info["blocks_hosted"] = int(placement.count.sum())
    info["unhosted_blocks"] = unhosted_blocks(placement, cluster.num_blocks)
    return Prepared(name, placement, cap, rt, info=info)


@dataclass(frozen=True, eq=False)
class FixedRoutes:
    """Routes fixed before a run, per request class (clients that run blocks; built by
    :mod:`splitopt.joint.online`, which the many-server core does not import).

    Routing kernels (ws-rr, shortest, petals): a class c with ``hops[c] > 0`` is not
    routed by the policy; its requests use the servers ``servers[c, :hops[c]]`` (route
    order, each once) holding ``blocks[c, h]`` blocks' cache each, with service
    ``total_s[c]`` and prefill ``prefill_s[c]`` (s; client segments included), and run
    ``client_blocks[c]`` blocks on their client. A class whose fixed route needs more
    cache on a server than the policy's budget there is routed by the policy instead.
    JFFC (gbp-cr's chains): ``chain_total_s[c, k]`` / ``chain_prefill_s[c, k]`` replace
    the chain's service and prefill where ``chain_client_blocks[c, k] > 0`` (the chain's
    slot is held as before). Classes with no fixed route are simulated exactly as
    without this object.

    Client parts chosen at arrival instead (``choice`` given: the ``dyn_*`` arrays of
    :func:`~splitopt.placement.sim_kernel.simulate_joint_routes_kernel`, one row per
    class; ``choice.max_client[c] = 0`` for a class whose client holds no block):
    routing kernels only; JFFC keeps the per-chain routes above.
    """

    hops: np.ndarray
    servers: np.ndarray
    blocks: np.ndarray
    total_s: np.ndarray
    prefill_s: np.ndarray
    client_blocks: np.ndarray
    chain_total_s: np.ndarray | None = None
    chain_prefill_s: np.ndarray | None = None
    chain_client_blocks: np.ndarray | None = None
    num_blocks: int = 0
    choice: ClientChoice | None = None


@dataclass(frozen=True, eq=False)
class ClientChoice:
    """Per request class c and server j, the joint DP's costs for a client part chosen
    at each arrival (s): a visit to j costs ``visit[c, j]`` (plus its wait now), a
    block on j ``block[c, j]``, a block on the client ``client[c]``; ``pre_*`` are
    their prefill parts; ``max_client[c]`` the most blocks the client holds;
    ``sla_s[c]`` the bound on the penalised cost under which the most client blocks
    win (inf: least penalised cost wins)."""

    max_client: np.ndarray
    visit: np.ndarray
    block: np.ndarray
    client: np.ndarray
    pre_visit: np.ndarray
    pre_block: np.ndarray
    pre_client: np.ndarray
    sla_s: np.ndarray


def semantics_delay_s(cluster: Cluster, routing: str, semantics: str | Semantics) -> float:
    """The constant per-request delay (s) a semantics adds: the scripts' allocation delay
    and initial delay (0 under ``splitopt``)."""
    sem = get_semantics(semantics)
    return sem.alloc_delay_s(routing) + sem.initial_delay_s(cluster)


def run_prepared(
    cluster: Cluster,
    workload: Workload,
    prep: Prepared,
    seed: int,
    *,
    authors_backoff: bool = False,
    alloc_delay_s: float = 0.0,
    label: str | None = None,
    record_routes: bool = False,
    semantics: str | Semantics = "splitopt",
    fixed: FixedRoutes | None = None,
) -> SimRun:
    """One seeded run of a prepared policy. ``authors_backoff``: WS-RR waits, too, are
    rounded up to PETALS's retry instants (as ``WS_RR.m`` does; off by default).
    ``semantics``: what the simulator counts (:mod:`splitopt.placement.semantics`); its
    constant delays are not added here (``alloc_delay_s``; :func:`run_policy` adds them).
    ``fixed``: routes fixed per class (:class:`FixedRoutes`); the run then records
    each request's client and swarm blocks (``SimRun.client_blocks``)."""
    sem = get_semantics(semantics)
    arrive, cls = workload.sample(seed)
    costs = class_costs(cluster, workload.classes)
    l_out = costs.l_out[cls].astype(np.float64)
    name = label or prep.name
    if prep.routing == "jffc":
        K = len(prep.chains)
        C = len(workload.classes)
        ct = np.full((C, max(K, 1)), np.inf)
        cp = np.full((C, max(K, 1)), np.inf)
        for k, ch in enumerate(prep.chains):
            blocks = hop_blocks(prep.placement, ch, cluster.num_blocks)  # type: ignore[arg-type]
            assert blocks is not None  # GCA's chains are routes of the placement
            for c in range(C):
                ct[c, k] = sum(
                    costs.hop[c, j] + b * costs.block[c, j] for j, b in zip(ch, blocks, strict=True)
                )  # type: ignore[arg-type]
                cp[c, k] = sum(
                    costs.pre_hop[c, j] + b * costs.pre_block[c, j]
                    for j, b in zip(ch, blocks, strict=True)
                )  # type: ignore[arg-type]
        slots = prep.slots if prep.slots is not None and K else np.zeros(1, dtype=np.int64)
        cb = np.zeros(ct.shape, dtype=np.int64)
        if fixed is not None and fixed.chain_client_blocks is not None and K:
            assert fixed.chain_total_s is not None and fixed.chain_prefill_s is not None
            on = fixed.chain_client_blocks[:, :K] > 0
            ct[:, :K] = np.where(on, fixed.chain_total_s[:, :K], ct[:, :K])
            cp[:, :K] = np.where(on, fixed.chain_prefill_s[:, :K], cp[:, :K])
            cb[:, :K] = np.where(on, fixed.chain_client_blocks[:, :K], 0)
        admit, service, prefill, seen, chain = simulate_chains_kernel(
            arrive, cls, ct, cp, slots, float(alloc_delay_s)
        )
        run = SimRun(
            name, seed, arrive, admit, service, prefill, l_out, seen, alloc_delay_s, dict(prep.info)
        )
        if fixed is None:
            return run
        got = chain >= 0
        client = np.zeros(len(arrive), dtype=np.int64)
        client[got] = cb[cls[got], chain[got]]
        return _with_blocks(run, client, fixed.num_blocks)
    pl = prep.placement
    assert pl is not None and prep.cap is not None
    cap = np.asarray(prep.cap, dtype=np.float64)
    need = costs.need
    if sem.slots and need.size and float(need.max()) > 0:
        # whole per-request slots floor(free / s_c), as the MATLAB's n_caches; one slot
        # per block per request. The MATLAB has one class (one l_in + l_out, one s_c);
        # with several, every slot is the design class's s_c, the largest (ours: the s_c
        # CG-BP is designed for, as the MATLAB's one s_c is both), see slot_bytes
        slot = slot_bytes(costs.need)
        cap = np.floor(cap * (1 + 1e-9) / slot) * slot
        need = np.full_like(costs.need, slot)
    pair = np.zeros((1, 1))
    if prep.routing == "petals":
        net = cluster.network_rtt_s[[j.client for j in workload.classes]]
        r_hop = net / 2 + OVERHEAD_S
        per_block = cluster.decode() if sem.petals_tau else 1.0 / inference_rps(cluster)
        r_block = np.broadcast_to(per_block, r_hop.shape).copy()
        r_sink = net / 2
        mode, penalty, backoff = MODE_PETALS, ALLOC_DELAY_S, True
        if cluster.server_rtt_s is not None:
            # the servers' own pings for server-to-server hops, as PETALS and the MATLAB
            pair = np.ascontiguousarray(cluster.server_rtt_s / 2 + OVERHEAD_S)
    else:
        r_hop, r_block, r_sink = costs.hop, costs.block, np.zeros_like(costs.hop)
        mode = MODE_WS_RR if prep.routing == "ws-rr" else MODE_SHORTEST
        penalty, backoff = 0.0, bool(authors_backoff or sem.backoff_all)
    routes = np.full(
        (len(arrive), cluster.num_servers) if record_routes else (1, 1), -1, dtype=np.int64
    )
    # the arguments both route kernels take (the joint one adds the clients' parts)
    common = (
        arrive,
        cls,
        need,
        pl.first,
        pl.count,
        cap,
        costs.hop,
        costs.block,
        costs.pre_hop,
        costs.pre_block,
        r_hop,
        r_block,
        r_sink,
        mode,
        float(penalty),
        backoff,
        BACKOFF_CAP_S,
        float(alloc_delay_s),
        cluster.num_blocks,
        routes,
        pair,
        bool(sem.from_arrival),
        bool(sem.session_rule),
    )
    if fixed is not None:
        hops = fits(fixed, cap, need)
        C = len(workload.classes)
        choice = fixed.choice
        if choice is None:
            none = np.zeros((C, 1))
            zero = np.zeros(C)
            choice = ClientChoice(
                np.zeros(C, dtype=np.int64), none, none, zero, none, none, zero, zero
            )
        f64 = np.float64
        admit, service, prefill, seen, _, _, chosen = simulate_joint_routes_kernel(
            *common,
            hops,
            np.ascontiguousarray(fixed.servers, dtype=np.int64),
            np.ascontiguousarray(fixed.blocks, dtype=np.int64),
            np.ascontiguousarray(fixed.total_s, dtype=np.float64),
            np.ascontiguousarray(fixed.prefill_s, dtype=np.float64),
            np.ascontiguousarray(choice.max_client, dtype=np.int64),
            np.ascontiguousarray(choice.visit, dtype=f64),
            np.ascontiguousarray(choice.block, dtype=f64),
            np.ascontiguousarray(choice.client, dtype=f64),
            np.ascontiguousarray(choice.pre_visit, dtype=f64),
            np.ascontiguousarray(choice.pre_block, dtype=f64),
            np.ascontiguousarray(choice.pre_client, dtype=f64),
            np.ascontiguousarray(choice.sla_s, dtype=f64),
        )
        client = np.where((hops[cls] > 0) & np.isfinite(admit), fixed.client_blocks[cls], 0)
        client = np.where(chosen >= 0, chosen, client)
    else:
        admit, service, prefill, seen, _, _ = simulate_routes_kernel(*common)
    info = dict(prep.info)
    if record_routes:
        info["routes"] = [tuple(int(j) for j in row[row >= 0]) for row in routes]
        info["classes"] = cls
    run = SimRun(name, seed, arrive, admit, service, prefill, l_out, seen, alloc_delay_s, info)
    if fixed is None:
        return run
    return _with_blocks(run, client, fixed.num_blocks)


def fits(fixed: FixedRoutes, cap: np.ndarray, need: np.ndarray) -> np.ndarray:
    """``fixed.hops`` with 0 for every class whose fixed route needs more cache on one
    of its servers than that server's budget ``cap`` (bytes; ``need``: bytes per block
    per class): those classes are routed by the policy."""
    hops = np.array(fixed.hops, dtype=np.int64)
    for c in np.flatnonzero(hops > 0):
        h = int(hops[c])
        srv = fixed.servers[c, :h]
        if np.any(fixed.blocks[c, :h] * need[c] > cap[srv] * (1 + 1e-9)):
            hops[c] = 0
    return hops


def _with_blocks(run: SimRun, client: np.ndarray, num_blocks: int) -> SimRun:
    """``run`` with its per-request client blocks (0 where unserved) and swarm blocks."""
    from dataclasses import replace

    client = np.where(run.served, client, 0).astype(np.int64)
    swarm = np.where(run.served, num_blocks - client, 0).astype(np.int64)
    return replace(run, client_blocks=client, swarm_blocks=swarm)


def slot_bytes(need: np.ndarray) -> float:
    """The cache slot (bytes per block per request) of the authors' whole-slot rule:
    the largest class's s_c. The authors' MATLAB has one request class (one client, one
    l_in + l_out, so one s_c, both CG-BP's design cache and the slot of ``n_caches``);
    with several classes every request holds one slot of the design class's s_c per
    block it runs (an assumption of ours; with one class it is the MATLAB's rule)."""
    return float(np.max(need))


def _resolve(semantics: str | Semantics, authors_delays: bool) -> Semantics:
    if authors_delays:  # the deprecated flag: the earlier, looser semantics
        return get_semantics("authors-delays")
    return get_semantics(semantics)


def run_policy(
    cluster: Cluster,
    workload: Workload,
    policy: str,
    seed: int,
    options: Mapping[str, Any] | None = None,
    *,
    authors_delays: bool = False,
    semantics: str | Semantics = "splitopt",
    record_routes: bool = False,
    fixed_for: Callable[[Prepared], FixedRoutes | None] | None = None,
) -> SimRun:
    """Prepare ``policy`` and simulate one seeded run under ``semantics``
    (:mod:`splitopt.placement.semantics`; a non-default one labels the policy, e.g.
    ``cg-bp+ws-rr[authors-semantics]``). ``authors_delays`` (deprecated) is the
    semantics ``authors-delays``: the sweep scripts' constant allocation delays (250 s
    PETALS routing, 60 s otherwise) and backoff-rounded waits for WS-RR too (labelled
    ``[authors]``, as before). ``fixed_for(prepared)``: the routes fixed per class on
    the prepared placement (clients that run blocks: :mod:`splitopt.joint.online`)."""
    sem = _resolve(semantics, authors_delays)
    # its registered builder
    prep = _policies.prepare(cluster, workload, policy, seed, options, semantics=sem)
    delay = semantics_delay_s(cluster, prep.routing, sem)
    label = prep.name
    if sem.name == "authors-delays":
        label = f"{prep.name}[authors]"
    elif sem.name != "splitopt":
        label = f"{prep.name}[{sem.name}-semantics]"
    return run_prepared(
        cluster,
        workload,
        prep,
        seed,
        alloc_delay_s=delay,
        label=label,
        record_routes=record_routes,
        semantics=sem,
        fixed=None if fixed_for is None else fixed_for(prep),
    )


def simulate_many(
    cluster: Cluster,
    workload: Workload,
    policies: list[str],
    seeds: int,
    options: Mapping[str, Any] | None = None,
    *,
    authors_delays: bool = False,
    semantics: str | Semantics = "splitopt",
    first_seed: int = 0,
    progress: Any = None,
    fixed_for: Callable[[Prepared], FixedRoutes | None] | None = None,
) -> list[SimRun]:
    """Every policy on seeds ``first_seed .. first_seed + seeds - 1`` (the same arrivals
    for every policy of a seed). ``progress(done, total, label)`` is called after each
    run; ``fixed_for`` as :func:`run_policy`'s."""
    names = [canonical(p) for p in policies]
    total = len(names) * seeds
    runs: list[SimRun] = []
    for p in names:
        for s in range(first_seed, first_seed + seeds):
            runs.append(
                run_policy(
                    cluster,
                    workload,
                    p,
                    s,
                    options,
                    authors_delays=authors_delays,
                    semantics=semantics,
                    fixed_for=fixed_for,
                )
            )
            if progress is not None:
                progress(len(runs), total, p)
    return runs


#: Candidate design concurrencies sim-opt tries (besides the paper's rule and R_max).
SIM_OPT_GRID = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
_SIM_OPT_CACHE: dict[tuple, int] = {}


def choose_R_by_simulation(
    cluster: Cluster, workload: Workload, options: Mapping[str, Any] | None = None
) -> int:
    """Ours: the design R of CG-BP + WS-RR with the least mean per-token time over
    ``sim_opt_seeds`` (default 3) training runs, each of max(num_requests, 200) requests,
    on this very cluster (the evaluation's own topology draw), rate and request classes;
    only the training runs' arrival seeds (10**6 + i) differ from the evaluation's (which
    are small). Tuned per evaluated cell, so it is an upper reference; ``sim-opt-rule``
    is the variant tuned once on disjoint draws and loads."""
    opts = dict(options or {})
    n_train = int(opts.get("sim_opt_seeds", 3))
    key = (cluster, workload, n_train)  # the cluster's value: every field counts
    if key in _SIM_OPT_CACHE:
        return _SIM_OPT_CACHE[key]
    rule = design_R(cluster, workload)
    top = r_max(cluster, workload)
    grid = sorted({r for r in (*SIM_OPT_GRID, rule, top) if 1 <= r <= top})
    train = Workload(workload.rate_per_s, max(workload.num_requests, 200), workload.classes)
    best_R, best = rule, math.inf
    for R in grid:
        placement = cg_bp_placement(cluster, train, R)
        prep = Prepared("cg-bp+ws-rr", placement, free_memory(cluster, placement), "ws-rr")
        vals = []
        for i in range(n_train):
            run = run_prepared(cluster, train, prep, 10**6 + i)
            vals.append(float(np.mean(run.per_token)) if run.served.all() else math.inf)
        v = float(np.mean(vals))
        if v < best - 1e-12:
            best, best_R = v, R
    _SIM_OPT_CACHE[key] = best_R
    return best_R


__all__ = [
    "AUTHORS_ALLOC_DELAY_S",
    "DEFAULT_POLICIES",
    "PLACEMENTS",
    "ROUTINGS",
    "ClassCosts",
    "ClientChoice",
    "FixedRoutes",
    "Prepared",
    "canonical",
    "choose_R_by_simulation",
    "class_costs",
    "design_R",
    "gbp_cr",
    "gca",
    "parse_policy",
    "prepare",
    "r_max",
    "run_policy",
    "run_prepared",
    "semantics_delay_s",
    "simulate_many",
    "single_request_time",
    "slot_bytes",
]
