"""Clients that run blocks, online: mean per-token time and swarm work against the
arrival rate (writes ``paper/generated/joint_online.{csv,md,tex}``).

    python benchmarks/joint_online.py [--requests N] [--seeds K] [--rates R,R,...]
    python benchmarks/joint_online.py --tables-only   # .md and .tex from the committed CSV

The CSV gets one row per run as it finishes (an interrupted run keeps them; a rerun
skips the rows already there).

Setting (all ours unless named): the shipped cluster ``paper-clustered`` (3 sites,
BLOOM-176B NF4, the paper's A100/MIG figures) with its own request classes at
l_out = 128; Poisson arrivals at each rate; the policies CG-BP + WS-RR (the BPRR
paper's) and PETALS (the deployed system's), each placing blocks for clients that
run nothing. Every client is a device of one class, the devices of
``benchmarks/joint_study.py``: none (the many-server model), phone (Snapdragon 8 Gen
3), laptop (Apple M2), workstation (RTX 4090), half their memory usable, per-block
times the cost model's scaled to the paper's measured A100 engine. Each request is
its own client instance (no queueing at clients); its class's client part is the
exact joint DP's on the policy's placement (:mod:`splitopt.joint.online`), chosen at
each arrival with the servers' waits (``waits``) or once per request class
(``static``), for the objective least time, or least swarm work within 1.2 x the
class's time when its client runs nothing (``swarm-work``). Swarm work is the
blocks a served request runs on the swarm (70 for a client that runs nothing).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from joint_study import CLASSES, device_for, engine_factor

from splitopt.formats.cluster_file import read_cluster
from splitopt.joint import JointCluster
from splitopt.joint.online import fixed_for
from splitopt.placement.online import run_policy
from splitopt.placement.simulate import Workload, t_quantile

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "paper" / "generated" / "joint_online"
CLUSTER = "paper-clustered"
POLICIES = ("cg-bp+ws-rr", "petals+petals")
#: (label, objective, SLA factor)
OBJECTIVES = (("time", "time", None), ("swarm-work", "swarm-work", 1.2))
#: when a request's client part is chosen (splitopt.joint.online.ROUTE_CHOICES)
CHOICES = ("waits", "static")
RATES = (0.05, 0.1, 0.2, 0.4, 0.8)
L_OUT = 128
FIELDS = (
    "cluster", "policy", "objective", "routes", "client", "client_max_blocks", "rate_per_s", "seed",
    "requests", "served", "per_token_mean_s", "wait_mean_s", "client_blocks_mean",
    "swarm_blocks_mean", "R", "run_s",
)  # fmt: skip


def _key(r: dict) -> tuple:
    return (
        r["policy"],
        r["objective"],
        r["routes"],
        r["client"],
        float(r["rate_per_s"]),
        int(r["seed"]),
    )


def run(requests: int, seeds: int, rates: tuple[float, ...], out: Path) -> None:
    cl = read_cluster(ROOT / "instances" / "clusters" / f"{CLUSTER}.json")
    factor = engine_factor("bloom-176b", "nf4")
    csv_path = out.with_suffix(".csv")
    done: set[tuple] = set()
    if csv_path.exists():
        with open(csv_path, newline="") as f:
            done = {_key(r) for r in csv.DictReader(f)}
    new = not csv_path.exists()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            w.writeheader()
        for rate in rates:
            wl = Workload.from_cluster(cl, rate_per_s=rate, num_requests=requests, l_out=L_OUT)
            for cls in CLASSES:
                jc = JointCluster(
                    cl, (device_for(cls, "bloom-176b", "nf4", factor),) * cl.num_clients
                )
                for (label, objective, sla_factor), choice in (
                    (o, ch) for o in OBJECTIVES for ch in CHOICES
                ):
                    ff = fixed_for(
                        jc,
                        wl.classes,
                        objective=objective,
                        sla_factor=sla_factor,
                        route_choice=choice,
                    )
                    for policy in POLICIES:
                        for seed in range(seeds):
                            key = (policy, label, choice, cls, float(rate), seed)
                            if key in done:
                                continue
                            t0 = time.perf_counter()
                            sim = run_policy(cl, wl, policy, seed, fixed_for=ff)
                            m = sim.metrics()
                            w.writerow(
                                {
                                    "cluster": CLUSTER,
                                    "policy": policy,
                                    "objective": label,
                                    "routes": choice,
                                    "client": cls,
                                    "client_max_blocks": jc.max_client_blocks(wl.classes[0]),
                                    "rate_per_s": rate,
                                    "seed": seed,
                                    "requests": requests,
                                    "served": m["served"],
                                    "per_token_mean_s": m["per_token_mean"],
                                    "wait_mean_s": m["wait_mean"],
                                    "client_blocks_mean": m["client_blocks_mean"],
                                    "swarm_blocks_mean": m["swarm_blocks_mean"],
                                    "R": sim.info.get("R", ""),
                                    "run_s": round(time.perf_counter() - t0, 3),
                                }
                            )
                            f.flush()
                            print(f"{policy} {label} {choice} {cls} {rate} {seed}", flush=True)


def cells(csv_path: Path) -> list[dict]:
    """Per (policy, objective, route choice, client, rate): means over seeds and 95 %
    CI half-widths."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    by: dict[tuple, list[dict]] = {}
    for r in rows:
        key = (r["policy"], r["objective"], r["routes"], r["client"], float(r["rate_per_s"]))
        by.setdefault(key, []).append(r)
    order_c = {c: i for i, c in enumerate(CLASSES)}
    order_o = {o[0]: i for i, o in enumerate(OBJECTIVES)}
    order_r = {c: i for i, c in enumerate(CHOICES)}
    out = []
    for (pol, obj, rc, cls, rate), rs in sorted(
        by.items(),
        key=lambda kv: (
            kv[0][0], order_o[kv[0][1]], order_r[kv[0][2]], kv[0][4], order_c[kv[0][3]]
        ),
    ):  # fmt: skip
        cell: dict = {
            "policy": pol,
            "objective": obj,
            "routes": rc,
            "client": cls,
            "rate_per_s": rate,
        }
        cell["seeds"] = len(rs)
        cell["client_max_blocks"] = int(rs[0]["client_max_blocks"])
        for col in ("per_token_mean_s", "wait_mean_s", "client_blocks_mean",
                    "swarm_blocks_mean", "served"):  # fmt: skip
            v = np.array([float(r[col]) for r in rs])
            cell[col] = float(v.mean())
            ok = len(v) > 1 and np.all(np.isfinite(v))
            cell[col + "_ci"] = (
                float(t_quantile(len(v)) * v.std(ddof=1) / math.sqrt(len(v))) if ok else math.nan
            )
        out.append(cell)
    return out


def write_md(cs: list[dict], out: Path, requests: int) -> None:
    def pm(c: dict, col: str, digits: int) -> str:
        m, ci = c[col], c[col + "_ci"]
        if not math.isfinite(m):
            return "–"
        return f"{m:.{digits}f}" + ("" if math.isnan(ci) else f" ± {ci:.{digits}f}")

    lines = [
        "<!-- generated by benchmarks/joint_online.py; do not edit -->",
        f"`{CLUSTER}`, {requests} requests per run, l_out = {L_OUT}; mean ± 95 % CI over "
        f"{cs[0]['seeds'] if cs else 0} seeds. Swarm blocks: blocks per served request on "
        "the swarm (swarm work); client blocks: on the request's own client.",
        "",
        "| policy | objective | client routes | rate (req/s) | client | can hold (blocks) "
        "| per-token time (s) | wait (s) | client blocks | swarm blocks | served |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cs:
        obj = c["objective"] if c["objective"] == "time" else "swarm work, SLA 1.2 x"
        lines.append(
            f"| {c['policy']} | {obj} | {c['routes']} | {c['rate_per_s']:g} | {c['client']} "
            f"| {c['client_max_blocks']} | {pm(c, 'per_token_mean_s', 3)} "
            f"| {pm(c, 'wait_mean_s', 2)} | {c['client_blocks_mean']:.2f} "
            f"| {c['swarm_blocks_mean']:.2f} | {100 * c['served']:.0f} % |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


_TEX = {"none": "None", "phone": "Phone", "laptop": "Laptop", "workstation": "Workstation"}
_POL = {"cg-bp+ws-rr": "Cgbp", "petals+petals": "Petals"}
_OBJ = {"time": "Time", "swarm-work": "Work"}
_RC = {"waits": "Waits", "static": "Static"}


def write_tex(cs: list[dict], out: Path, requests: int) -> None:
    """``joint_online.tex``: the table (CG-BP + WS-RR) and one macro per figure the
    text quotes (``\\jointOnline<Policy><Objective><Routes><Client>Rate<X>{PerToken,Swarm}``;
    rates as ``RateA``, ``RateB``, ... in increasing order)."""
    rates = sorted({c["rate_per_s"] for c in cs})
    letter = {r: chr(ord("A") + i) for i, r in enumerate(rates)}
    lines = ["% generated by benchmarks/joint_online.py from joint_online.csv; do not edit"]
    for r in rates:
        lines.append(f"\\newcommand{{\\jointOnlineRate{letter[r]}}}{{{r:g}}}")
    lines += [
        f"\\newcommand{{\\jointOnlineRequests}}{{{requests}}}",
        f"\\newcommand{{\\jointOnlineSeeds}}{{{cs[0]['seeds'] if cs else 0}}}",
    ]
    for c in cs:
        key = (
            _POL.get(c["policy"], "X")
            + _OBJ[c["objective"]]
            + _RC[c["routes"]]
            + _TEX[c["client"]]
            + "Rate"
            + letter[c["rate_per_s"]]
        )
        lines.append(f"\\newcommand{{\\jointOnline{key}PerToken}}{{{c['per_token_mean_s']:.3f}}}")
        lines.append(f"\\newcommand{{\\jointOnline{key}Swarm}}{{{c['swarm_blocks_mean']:.1f}}}")
    for c in cs:
        if c["client"] == "none":
            continue
        base = next(
            b
            for b in cs
            if b["client"] == "none"
            and b["policy"] == c["policy"]
            and b["objective"] == c["objective"]
            and b["routes"] == c["routes"]
            and b["rate_per_s"] == c["rate_per_s"]
        )
        saved = 100 * (1 - c["per_token_mean_s"] / base["per_token_mean_s"])
        key = (
            _POL.get(c["policy"], "X")
            + _OBJ[c["objective"]]
            + _RC[c["routes"]]
            + _TEX[c["client"]]
            + "Rate"
            + letter[c["rate_per_s"]]
        )
        lines.append(f"\\newcommand{{\\jointOnline{key}TimeSavedPct}}{{{saved:.1f}}}")
    body = [
        "\\begin{tabular}{lll" + "r" * 2 * len(rates) + "}",
        "\\toprule",
        " & & & " + " & ".join(f"\\multicolumn{{2}}{{c}}{{{r:g} req/s}}" for r in rates) + " \\\\",
        " ".join(f"\\cmidrule(lr){{{4 + 2 * i}-{5 + 2 * i}}}" for i in range(len(rates))),
        "client & objective & routes & "
        + " & ".join(["per-tok.\\ (s) & swarm"] * len(rates))
        + " \\\\",
        "\\midrule",
    ]
    pairs = [(o[0], ch) for o in OBJECTIVES for ch in CHOICES]
    for i, (obj, rc) in enumerate(pairs):
        for cls in CLASSES:
            if cls == "none" and rc != CHOICES[0]:
                continue  # a client that runs nothing: the same runs under every choice
            row = [_TEX[cls], "time" if obj == "time" else "work, 1.2$\\times$", rc]
            for r in rates:
                c = next(
                    x
                    for x in cs
                    if x["policy"] == "cg-bp+ws-rr"
                    and x["objective"] == obj
                    and x["routes"] == rc
                    and x["client"] == cls
                    and x["rate_per_s"] == r
                )
                row += [f"{c['per_token_mean_s']:.3f}", f"{c['swarm_blocks_mean']:.1f}"]
            body.append(" & ".join(row) + " \\\\")
        if i < len(pairs) - 1:
            body.append("\\midrule")
    body += ["\\bottomrule", "\\end{tabular}"]
    lines.append("\\newcommand{\\jointOnlineTable}{%")
    lines += body
    lines.append("}")
    out.with_suffix(".tex").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rates", default=",".join(f"{r:g}" for r in RATES))
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--tables-only", action="store_true")
    args = ap.parse_args(argv)
    if not args.tables_only:
        rates = tuple(float(x) for x in args.rates.split(","))
        run(args.requests, args.seeds, rates, args.out)
    cs = cells(args.out.with_suffix(".csv"))
    with open(args.out.with_suffix(".csv"), newline="") as f:
        requests = int(next(csv.DictReader(f))["requests"])
    write_md(cs, args.out, requests)
    write_tex(cs, args.out, requests)
    print(f"wrote {args.out.with_suffix('.md')} and .tex ({len(cs)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
