"""PipeEdge against the joint model's throughput-optimal routes, on the same instances
(writes ``paper/generated/joint_pipeline.{csv,md,tex}``; the ``.tex`` holds the
summary's ``\\jointPipe...`` macros for the paper).

    python benchmarks/joint_pipeline.py [--generated N] [--seed S]

Instances: every job of every shipped cluster file whose clients name devices
(``instances/joint/``, ``instances/clusters/``), and ``N`` seeded generated edge
clusters (ours): one client device and 2-5 heterogeneous servers, 6-16 blocks, block
weights 1e6-1e9 B, KV cache 1e1-1e5 B per token per block, server decode times
1e-4-1e-1 s per block, round trips 1e-3-1 s, server memory for 1-L blocks, client
memory for 0-L blocks and client decode times 1e-4-1 s per block, all log-uniform.

For each job:

* **PipeEdge** (:func:`splitopt.joint.pipeline.pipeedge`) partitions the blocks over
  {the job's client device, every server} as device types, one device each, with
  PipeEdge's memory rule; the mapping (ours) is
  :mod:`splitopt.joint.pipeedge_joint`. PipeEdge places the model for this one job
  alone (no other job shares the servers).
* **Joint**: CG-BPRR places the blocks for all the cluster's jobs, then the exact
  throughput DP (``--joint-objective throughput``) routes the job.

Both answers are scored by the joint evaluator
(:func:`splitopt.joint.evaluate.route_bottleneck`; PipeEdge's stages read as a
placement and route), and by PipeEdge's own evaluator
(:func:`splitopt.joint.pipeline.bottleneck`, which counts no transfer into the
first stage or out of the last; a joint route with a client prefix and suffix -- two
stages on one device -- has no PipeEdge score). ``ratio`` = joint bottleneck /
PipeEdge's, both by the joint evaluator (> 1: PipeEdge's pipeline has the higher
throughput).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np

from splitopt.families.joint_tiny import loguniform
from splitopt.formats.cluster_file import read_joint_cluster
from splitopt.joint import CLIENT, ClientDevice, JointCluster, best_route
from splitopt.joint.evaluate import route_bottleneck
from splitopt.joint.pipeedge_joint import pipeline_instance, route_as_stages, stages_as_route
from splitopt.joint.pipeline import bottleneck, pipeedge
from splitopt.placement import get_algorithm
from splitopt.placement.model import BlockModel, Cluster, Job, Server

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "paper" / "generated" / "joint_pipeline"
SHIPPED = ("instances/joint", "instances/clusters")
FIELDS = (
    "instance", "client", "blocks", "servers", "pipeedge_stages", "pipeedge_own_s",
    "pipeedge_s", "joint_route", "joint_s", "joint_pipeedge_s", "ratio",
)  # fmt: skip


def edge_cluster(seed: int) -> JointCluster:
    """A seeded edge cluster: one client device, 2-5 servers (ranges in the docstring)."""
    rng = np.random.default_rng(seed)
    L = int(rng.integers(6, 17))
    S = int(rng.integers(2, 6))
    block = float(loguniform(rng, 1e6, 1e9))
    cache = float(loguniform(rng, 1e1, 1e5))
    l_in, l_out = int(rng.integers(8, 257)), int(rng.integers(8, 257))
    per = block + cache * (l_in + l_out)
    servers = tuple(
        Server(
            id=f"s{j}",
            memory_bytes=per * float(rng.uniform(1, L + 1)),
            decode_s=float(loguniform(rng, 1e-4, 1e-1)),
            prefill_s0=float(loguniform(rng, 1e-4, 1e-1)),
        )
        for j in range(S)
    )
    rtt = loguniform(rng, 1e-3, 1.0, (1, S))
    cl = Cluster(
        name=f"edge-{seed}",
        model=BlockModel(L, block, cache),
        servers=servers,
        clients=("c0",),
        rtt_s=rtt,
        prefill_rtt_s=rtt * 2,
        jobs=(Job(client=0, l_in=l_in, l_out=l_out),),
    )
    dev = ClientDevice(
        memory_bytes=per * float(rng.uniform(0, L)),
        decode_s=float(loguniform(rng, 1e-4, 1.0)),
        prefill_s0=float(loguniform(rng, 1e-4, 1.0)),
    )
    return JointCluster(cl, (dev,))


def shipped() -> list[tuple[str, JointCluster]]:
    """The shipped cluster files whose clients name a device that runs blocks."""
    out = []
    for folder in SHIPPED:
        for path in sorted((ROOT / folder).glob("*.json")):
            try:
                jc = read_joint_cluster(path)
            except Exception:
                continue
            if any(d.memory_bytes > 0 for d in jc.devices):
                out.append((str(path.relative_to(ROOT)), jc))
    return out


def _text(jc: JointCluster, route) -> str:
    ids = [s.id for s in jc.cluster.servers]
    return " ".join(
        f"{'client' if s.device == CLIENT else ids[s.device]}[{s.first}..{s.last}]" for s in route
    )


def rows_for(name: str, jc: JointCluster) -> list[dict]:
    res = get_algorithm("cg-bprr").solve(jc.cluster)
    rows = []
    for job in jc.cluster.jobs:
        model, types = pipeline_instance(jc, job)
        stages, own = pipeedge(model, types)
        if stages:
            pl, route = stages_as_route(jc, stages)
            pe = route_bottleneck(jc, pl, job, route)
            pe_text = _text(jc, route)
        else:
            pe, pe_text = math.inf, "none fits"
        joint, joint_text, joint_pe = math.inf, "no placement", math.inf
        if res.placement is not None:
            ans = best_route(jc, res.placement, job, "throughput")
            if ans.status == "error":
                raise SystemExit(f"{name}: the evaluator disagrees with the throughput DP")
            if ans.status == "optimal" and ans.bottleneck_s is not None:
                joint, joint_text = ans.bottleneck_s, _text(jc, ans.route)
                joint_pe = bottleneck(model, types, route_as_stages(ans.route))
            else:
                joint_text = "no route"
        rows.append(
            {
                "instance": name,
                "client": jc.cluster.clients[job.client],
                "blocks": jc.num_blocks,
                "servers": jc.cluster.num_servers,
                "pipeedge_stages": pe_text,
                "pipeedge_own_s": f"{own:.4g}",
                "pipeedge_s": f"{pe:.4g}",
                "joint_route": joint_text,
                "joint_s": f"{joint:.4g}",
                "joint_pipeedge_s": f"{joint_pe:.4g}" if math.isfinite(joint_pe) else "n/a",
                "ratio": f"{joint / pe:.3g}" if math.isfinite(joint / pe) else "n/a",
            }
        )
    return rows


def write(rows: list[dict], command: str, seconds: float) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        w.writerows(rows)
    ratios = [float(r["ratio"]) for r in rows if r["ratio"] != "n/a"]
    lines = [
        "# PipeEdge against the joint model's throughput-optimal routes",
        "",
        f"Command: `{command}` ({seconds:.0f} s). Bottlenecks in s per token, scored by the",
        "joint evaluator (`pipeedge_s`, `joint_s`) and by PipeEdge's own (`pipeedge_own_s`,",
        "`joint_pipeedge_s`; n/a: the route runs a client prefix and suffix, two stages on",
        "one device, which PipeEdge does not allow). PipeEdge places the model",
        "for the one job alone; the joint route runs on CG-BPRR's placement for all the",
        "cluster's jobs. `ratio` = joint_s / pipeedge_s (> 1: PipeEdge's pipeline is faster).",
        "",
    ]
    macros = ["% generated by benchmarks/joint_pipeline.py; do not edit"]
    if ratios:
        arr = np.array(ratios)
        for name, value in (
            ("Jobs", len(ratios)),
            (
                "Generated",
                len({r["instance"] for r in rows if r["instance"].startswith("edge-")}),
            ),
            ("Equal", int((abs(arr - 1) <= 1e-9).sum())),
            ("JointBetter", int((arr < 1 - 1e-9).sum())),
            ("PipeedgeBetter", int((arr > 1 + 1e-9).sum())),
            ("RatioMin", f"{arr.min():.3g}"),
            ("RatioMax", f"{arr.max():.3g}"),
            ("Without", len(rows) - len(ratios)),
        ):
            macros.append(f"\\newcommand{{\\jointPipe{name}}}{{{value}}}")
        lines += [
            f"Summary over {len(ratios)} jobs with both answers: ratio median "
            f"{np.median(arr):.3g}, min {arr.min():.3g}, max {arr.max():.3g}; joint better "
            f"(ratio < 1) on {int((arr < 1 - 1e-9).sum())}, equal on "
            f"{int((abs(arr - 1) <= 1e-9).sum())}, PipeEdge better on "
            f"{int((arr > 1 + 1e-9).sum())}; {len(rows) - len(ratios)} jobs without both.",
            "",
        ]
    lines.append("| " + " | ".join(FIELDS) + " |")
    lines.append("|" + "---|" * len(FIELDS))
    for r in rows:
        lines.append("| " + " | ".join(str(r[k]) for k in FIELDS) + " |")
    OUT.with_suffix(".md").write_text("\n".join(lines) + "\n")
    OUT.with_suffix(".tex").write_text("\n".join(macros) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generated", type=int, default=30, help="generated edge clusters")
    ap.add_argument("--seed", type=int, default=0, help="first generated cluster's seed")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows: list[dict] = []
    for name, jc in shipped():
        rows += rows_for(name, jc)
    for k in range(args.generated):
        rows += rows_for(f"edge-{args.seed + k}", edge_cluster(args.seed + k))
    command = f"python benchmarks/joint_pipeline.py --generated {args.generated} --seed {args.seed}"
    write(rows, command, time.perf_counter() - t0)
    print(OUT.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
