"""Client-aware CG-BP (splitopt.joint.heuristic) against CG-BP and an exact placement:
its gap on tiny instances and its runtime at 150 servers x 70 blocks with 1,000 clients.
Writes ``paper/generated/joint_heuristic.{csv,md,tex}`` (the .tex: the paper's
``\\jointHeur...`` macros, from the CSV alone).

    python benchmarks/joint_heuristic.py [--instances N] [--clients C] [--seed S]
    python benchmarks/joint_heuristic.py --tex-only   # the .tex from the committed CSV

Gap (all ours): N seeded tiny instances (L 3..5 blocks, 2..3 servers, 2..3 jobs, each
from its own client; server decode/prefill 1e-3..1e-1 s per block, round trips
1e-3..3e-1 s, client decode/prefill 1e-3..3e-1 s per block, a client holding 0..L
blocks with probability 0.9 each and none otherwise; no KV cache, so server counts are
the memory's whole blocks, 1..L). Objective: the sum over jobs of the least T_r, each
job routed by the exact joint DP on the placement. The exact method is brute force over
every placement of one range of at most CG-BP's count per server (memory otherwise
non-binding, the same set CG-BP and the heuristic choose from); gap = (heuristic -
exact) / exact, over instances where the exact method routes every job.

Scale: ``random_cluster(seed, 150 servers, 70 blocks, C clients, 1 job each)`` (BLOOM-176B
NF4, the paper's A100/MIG servers), every client a phone, laptop or workstation (uniform;
the devices of benchmarks/joint_study.py, half their memory usable, per-block times
scaled to the paper's A100 engine); runtimes of the placements and of routing all jobs
with the DP (time objective), and the mean per-token times. ``best-of`` keeps the
better of the two placements by the DP's total time (its placement time includes
routing every job on both). ``local-search`` (ours) starts from best-of and moves one
server's range at a time to the range (within CG-BP's count) that most lowers the
sum of the DP's least T_r: on tiny instances every range and all jobs until no move
helps; at scale shifts by 1, 2, 4, ... blocks and one block more or less, scored on
``--ls-sample`` sampled jobs, for at most ``--ls-seconds`` (its placement time includes
best-of's). One run on a shared 2-core machine: runtimes are indicative.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from splitopt.families.joint_tiny import loguniform  # noqa: E402
from splitopt.joint import ClientDevice, JointCluster  # noqa: E402
from splitopt.joint.heuristic import (  # noqa: E402
    best_of,
    brute_placement,
    cgbp_placement,
    client_aware_cgbp,
    local_search,
    total_time,
)
from splitopt.joint.place import route_jobs  # noqa: E402
from splitopt.placement.model import BlockModel, Cluster, Job, Server  # noqa: E402
from splitopt.scenario.client_devices import client_device  # noqa: E402
from splitopt.scenario.cluster import random_cluster, server_from_device  # noqa: E402

OUT = ROOT / "paper" / "generated"
PAPER_A100_DECODE_S = 0.0032197  # as benchmarks/joint_study.py
CLASSES = {"phone": "snapdragon-8-gen-3", "laptop": "apple-m2", "workstation": "rtx-4090"}


METHODS = (
    ("cg-bp", cgbp_placement),
    ("client-aware", client_aware_cgbp),
    ("best-of", best_of),
    ("local-search", local_search),
)
#: Local search at scale (ours): moves scored on this many sampled jobs, for at most
#: this many seconds (``--ls-sample``, ``--ls-seconds``); on tiny instances: all jobs,
#: every range within CG-BP's count, until no move helps.
LS_SAMPLE = 64
LS_SECONDS = 60.0
NAMES = tuple(m for m, _ in METHODS)


def tiny_instance(seed: int) -> JointCluster:
    rng = np.random.default_rng(seed)
    L = int(rng.integers(3, 6))
    S = int(rng.integers(2, 4))
    n = int(rng.integers(2, 4))
    bb = 1e9
    servers = tuple(
        Server(
            id=f"s{j}",
            memory_bytes=bb * int(rng.integers(1, L + 1)),
            decode_s=float(loguniform(rng, 1e-3, 1e-1)),
            prefill_s0=float(loguniform(rng, 1e-3, 1e-1)),
        )
        for j in range(S)
    )
    rtt = loguniform(rng, 1e-3, 3e-1, (n, S))
    jobs = tuple(Job(c, int(rng.integers(1, 50)), int(rng.integers(1, 50))) for c in range(n))
    cl = Cluster(
        name=f"heur-{seed}",
        model=BlockModel(L, bb, 0.0),
        servers=servers,
        clients=tuple(f"c{c}" for c in range(n)),
        rtt_s=rtt,
        prefill_rtt_s=rtt * 1.5,
        jobs=jobs,
    )
    devs = tuple(
        ClientDevice(
            memory_bytes=bb * int(rng.integers(0, L + 1)) if rng.random() < 0.9 else 0.0,
            decode_s=float(loguniform(rng, 1e-3, 3e-1)),
            prefill_s0=float(loguniform(rng, 1e-3, 3e-1)),
        )
        for _ in range(n)
    )
    return JointCluster(cl, devs)


def gap_study(n: int, seed: int) -> dict[str, dict[str, float]]:
    gaps: dict[str, list[float]] = {m: [] for m in NAMES}
    misses = dict.fromkeys(NAMES, 0)
    runtime = dict.fromkeys(NAMES, 0.0)
    better = 0
    t_exact = 0.0
    for i in range(n):
        jc = tiny_instance(seed * 100_000 + i)
        t0 = time.perf_counter()
        _, opt = brute_placement(jc)
        t_exact += time.perf_counter() - t0
        if not np.isfinite(opt):
            continue
        got = {}
        for name, fn in METHODS:
            t0 = time.perf_counter()
            pl = fn(jc)
            runtime[name] += time.perf_counter() - t0
            t = total_time(jc, pl)
            got[name] = t
            if not np.isfinite(t):
                misses[name] += 1
                continue
            assert t >= opt * (1 - 1e-9), (i, name, t, opt)  # exact is a lower bound
            gaps[name].append((t - opt) / opt)
        better += got["client-aware"] < got["cg-bp"] * (1 - 1e-12)
    out = {}
    for name, g in gaps.items():
        out[name] = {
            "instances": len(g),
            "unrouted": misses[name],
            "gap_mean": statistics.fmean(g) if g else float("nan"),
            "gap_median": statistics.median(g) if g else float("nan"),
            "gap_max": max(g) if g else float("nan"),
            "optimal_share": sum(x <= 1e-9 for x in g) / len(g) if g else float("nan"),
            "runtime_s_total": runtime[name],
        }
    out["client-aware"]["better_than_cgbp"] = better
    out["exact"] = {"runtime_s_total": t_exact}
    return out


def scale_run(
    clients: int, seed: int, ls_sample: int = LS_SAMPLE, ls_seconds: float = LS_SECONDS
) -> dict[str, float]:
    cl = random_cluster(
        seed, num_servers=150, num_blocks=70, num_clients=clients, jobs_per_client=1
    )
    factor = (
        PAPER_A100_DECODE_S / server_from_device("a", "a100-80gb", "bloom-176b", "nf4").decode_s
    )
    rng = np.random.default_rng(seed)
    kinds = list(CLASSES)
    base = {k: client_device(v, "bloom-176b", "nf4") for k, v in CLASSES.items()}
    devs = []
    for _ in range(cl.num_clients):
        d = base[kinds[int(rng.integers(len(kinds)))]]
        devs.append(
            ClientDevice(
                d.memory_bytes, d.decode_s * factor, d.prefill_s0 * factor, d.prefill_s1 * factor
            )
        )
    jc = JointCluster(cl, tuple(devs))
    row: dict[str, float] = {
        "servers": cl.num_servers,
        "blocks": cl.num_blocks,
        "clients": cl.num_clients,
        "jobs": len(cl.jobs),
    }
    for name, fn in METHODS:
        t0 = time.perf_counter()
        if name == "local-search":  # from best-of, moves scored on sampled jobs, time-capped
            pl = local_search(jc, sample=ls_sample, time_limit=ls_seconds, seed=seed)
        else:
            pl = fn(jc)
        row[f"{name} place_s"] = time.perf_counter() - t0
        r = route_jobs(jc, pl, "time")
        row[f"{name} route_s"] = r.runtime_s
        row[f"{name} routed"] = r.served
        row[f"{name} mean_per_token_s"] = r.joint_mean_per_token_s()
        row[f"{name} swarm_blocks"] = r.swarm_blocks
    return row


_TEX_METHOD = {
    "cg-bp": "Cgbp",
    "client-aware": "Aware",
    "best-of": "Bestof",
    "local-search": "Local",
    "exact": "Exact",
}


def write_tex(csv_path: Path) -> Path:
    """``joint_heuristic.tex`` beside ``csv_path``: one macro per figure (gap part:
    per method; scale part: per method and the instance size), from the CSV alone."""

    def num(v: float, fmt: str) -> str:
        return fmt.format(v).replace(",", "{,}")

    pct = {"gap_mean", "gap_median", "gap_max", "optimal_share"}
    lines = ["% generated by benchmarks/joint_heuristic.py from joint_heuristic.csv; do not edit"]
    with csv_path.open(newline="") as f:
        for r in csv.DictReader(f):
            v = float(r["value"])
            fig = r["figure"]
            if r["part"] == "gap":
                key = _TEX_METHOD[r["method"]]
                name = "".join(w.capitalize() for w in fig.split("_"))
                text = (
                    num(100 * v, "{:.0f}" if fig == "optimal_share" else "{:.2f}")
                    if fig in pct
                    else num(v, "{:.1f}" if fig == "runtime_s_total" else "{:,.0f}")
                )
                lines.append(f"\\newcommand{{\\jointHeur{key}{name}}}{{{text}}}")
            else:
                m, _, what = fig.rpartition(" ")
                key = _TEX_METHOD.get(m, "")
                name = "".join(w.capitalize() for w in what.split("_"))
                fmt = {
                    "PlaceS": "{:.3f}",
                    "RouteS": "{:.2f}",
                    "MeanPerTokenS": "{:.3f}",
                }.get(name, "{:,.0f}")
                lines.append(f"\\newcommand{{\\jointHeurScale{key}{name}}}{{{num(v, fmt)}}}")
    out = csv_path.with_suffix(".tex")
    out.write_text("\n".join(lines) + "\n")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ls-sample", type=int, default=LS_SAMPLE)
    ap.add_argument("--ls-seconds", type=float, default=LS_SECONDS)
    ap.add_argument(
        "--tex-only", action="store_true", help="only write the .tex from the existing CSV"
    )
    args = ap.parse_args()
    if args.tex_only:
        print(write_tex(OUT / "joint_heuristic.csv"))
        return 0
    gap = gap_study(args.instances, args.seed)
    scale = scale_run(args.clients, args.seed, args.ls_sample, args.ls_seconds)
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "joint_heuristic.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["part", "method", "figure", "value"])
        for m, d in gap.items():
            for k, v in d.items():
                w.writerow(["gap", m, k, v])
        for k, v in scale.items():
            w.writerow(["scale", "", k, v])
    lines = [
        "# Joint placement heuristics: gap to the exact placement and runtime at scale",
        "",
        f"Generated by `python benchmarks/joint_heuristic.py --instances {args.instances} "
        f"--clients {args.clients} --seed {args.seed} --ls-sample {args.ls_sample} "
        f"--ls-seconds {args.ls_seconds:g}` (its docstring states the setting).",
        "",
        "| method | instances | unrouted | gap mean | gap median | gap max | at the optimum "
        "| runtime, all (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in NAMES:
        d = gap[m]
        lines.append(
            f"| {m} | {d['instances']} | {d['unrouted']} | {d['gap_mean']:.2%} | "
            f"{d['gap_median']:.2%} | {d['gap_max']:.2%} | {d['optimal_share']:.0%} | "
            f"{d['runtime_s_total']:.2f} |"
        )
    lines += [
        "",
        f"Client-aware better than CG-BP on {gap['client-aware']['better_than_cgbp']} instances; "
        f"brute force took {gap['exact']['runtime_s_total']:.1f} s for all.",
        "",
        f"Scale: {scale['servers']} servers x {scale['blocks']} blocks, {scale['clients']} "
        "clients (one job each):",
        "",
        "| method | placement (s) | routing all jobs (s) | routed | mean per-token (s) "
        "| swarm blocks |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in NAMES:
        lines.append(
            f"| {m} | {scale[f'{m} place_s']:.3f} | {scale[f'{m} route_s']:.2f} | "
            f"{scale[f'{m} routed']} | {scale[f'{m} mean_per_token_s']:.4g} | "
            f"{scale[f'{m} swarm_blocks']:,} |"
        )
    (OUT / "joint_heuristic.md").write_text("\n".join(lines) + "\n")
    write_tex(OUT / "joint_heuristic.csv")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
