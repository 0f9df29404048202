"""Plain-text report of placement results (what ``splitopt place`` prints)."""

from __future__ import annotations

from splitopt.placement.evaluate import session_capacity
from splitopt.placement.model import Cluster
from splitopt.placement.result import PlacementResult

BOUND_KINDS = {
    "lower-objective": "lower bound on sum T_r (s)",
    "upper-per-token": "CG-BPRR theorem: upper bound on each request's per-token decode time (s)",
}


def _gb(x: float) -> str:
    return f"{x / 1e9:.2f} GB"


def _s(x: float) -> str:
    return f"{x:.4g} s"


def render(cluster: Cluster, res: PlacementResult) -> str:
    """The placement table, the routes per client, the objective and the bound."""
    lines = [f"== {res.algorithm}: {res.status}  ({res.runtime_s * 1e3:.1f} ms)"]
    if res.message:
        lines.append(f"   note: {res.message}")
    p, sc = res.placement, res.score
    if p is None or sc is None:
        return "\n".join(lines)
    if cluster.jobs:
        big = max(cluster.jobs, key=lambda j: j.l_in + j.l_out)
        cap = session_capacity(cluster, p, big.l_in, big.l_out)
        cap_head = f"sessions ({big.l_in}+{big.l_out} tok)"
    else:
        cap, cap_head = None, "sessions"
    w = max(6, *(len(s.id) for s in cluster.servers))
    lines.append(f"{'server':<{w}}  {'blocks':<9}  {'memory used':>12} / {'of':<10}  {cap_head}")
    for j, srv in enumerate(cluster.servers):
        m = int(p.count[j])
        blocks = f"{p.first[j]}..{p.first[j] + m - 1}" if m else "-"
        used = f"{_gb(sc.memory_used[j]):>12} / {_gb(srv.memory_bytes):<10}"
        c = "-" if cap is None or cap[j] < 0 else str(int(cap[j]))
        flag = "" if sc.memory_ok[j] else "  OVER"
        lines.append(f"{srv.id:<{w}}  {blocks:<9}  {used}  {c}{flag}")
    if res.routes:
        lines.append("routes:")
        groups: dict[tuple, list[int]] = {}
        for i, (job, route) in enumerate(zip(cluster.jobs, res.routes, strict=True)):
            groups.setdefault((job.client, job.l_in, job.l_out, route), []).append(i)
        for (c, l_in, l_out, route), ids in groups.items():
            js = sc.jobs[ids[0]]
            hops = []
            nxt = 1
            for j, k in zip(route, js.blocks, strict=False):
                hops.append(f"{cluster.servers[j].id}[{nxt}..{nxt + k - 1}]")
                nxt += k
            path = " -> ".join(hops) if hops else "(none)"
            lines.append(
                f"  {cluster.clients[c]} x{len(ids)} (l_in {l_in}, l_out {l_out}): {path}"
                f"   T = {_s(js.total_s)}, first token {_s(js.prefill_s)}, "
                f"{_s(js.per_token_s)}/token"
            )
    if sc.feasible:
        lines.append(
            f"objective: sum T_r = {_s(sc.objective)}; mean per-token time "
            f"{_s(sc.mean_per_token_s)}"
        )
    else:
        lines.append(f"infeasible: {sc.reason}")
    if res.bound is not None:
        kind = BOUND_KINDS.get(res.bound_kind or "", res.bound_kind or "bound")
        lines.append(f"bound: {_s(res.bound)}  ({kind})")
    return "\n".join(lines)


__all__ = ["render"]
