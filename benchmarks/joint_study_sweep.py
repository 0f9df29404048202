"""The static joint study across client classes, SLAs and swarm sizes, against BPRR's
client-runs-nothing and SplitLLM's single server (writes
``paper/generated/joint_study_sweep.{csv,md,tex}``).

    python benchmarks/joint_study_sweep.py [--requests N] [--seed S]
    python benchmarks/joint_study_sweep.py --tex-only   # the .tex from the committed CSV

Setting (all ours unless named): swarms of ``random_cluster(seed, S servers, 70
blocks, 10 clients, 2 jobs each)`` (BLOOM-176B NF4, the paper's A100 and MIG 1g.10gb
server figures, RTTs 5..200 ms plus the paper's overheads) for S = 20 (small), 60
(medium) and 150 (large); the swarm's placement is CG-BPRR's (client-unaware) for the
cluster's own jobs. Every client is a device of one class, as in
``benchmarks/joint_study.py``: none, phone (Snapdragon 8 Gen 3), laptop (Apple M2) or
workstation (RTX 4090), half its memory usable, per-block times scaled to the paper's
A100 engine. N requests from random clients (seeded), l_in = 20, l_out = 128.

Per request, three systems, each routed by the exact joint DP:

* **BPRR** (the client runs nothing): the least-time route on the swarm; its time T0
  sets the SLA = factor x T0, factor 1.0, 1.25, 1.5, 2 and 3;
* **joint** (the client's device and the swarm): least swarm blocks within the SLA
  (``swarm-work``), and least time (``time``);
* **SplitLLM** (the client and one server that hosts every block, as in the split
  half): the server is the one whose single-server route is fastest for that client
  (ours: its memory is assumed to hold the whole model, which no swarm server here
  does -- the single server is a hypothetical upper bound on what a split deployment
  could do with these servers), least server blocks within the same SLA, and least time.

Figures: swarm (or server) work saved = 1 - mean blocks off the client / L over the
requests that meet the SLA, the share of requests that meet it, and the mean
per-token time T / l_out. Routes are per request: whether the swarm's cache memory
admits them all at once is not asked here.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from splitopt.joint import ClientDevice, JointCluster, best_route  # noqa: E402
from splitopt.placement import get_algorithm  # noqa: E402
from splitopt.placement.model import Job, Placement  # noqa: E402
from splitopt.scenario.client_devices import client_device  # noqa: E402
from splitopt.scenario.cluster import random_cluster, server_from_device  # noqa: E402

OUT = ROOT / "paper" / "generated" / "joint_study_sweep"
SIZES = {"small": 20, "medium": 60, "large": 150}
SLA_FACTORS = (1.0, 1.25, 1.5, 2.0, 3.0)
CLASSES = {"phone": "snapdragon-8-gen-3", "laptop": "apple-m2", "workstation": "rtx-4090"}
PAPER_A100_DECODE_S = 0.0032197  # as benchmarks/joint_study.py
L_IN, L_OUT = 20, 128


def device_for(name: str, factor: float) -> ClientDevice:
    d = client_device(name, "bloom-176b", "nf4")
    return ClientDevice(
        d.memory_bytes, d.decode_s * factor, d.prefill_s0 * factor, d.prefill_s1 * factor
    )


def _single(S: int, j: int, L: int) -> Placement:
    first = np.zeros(S, dtype=np.int64)
    count = np.zeros(S, dtype=np.int64)
    first[j], count[j] = 1, L
    return Placement(first, count)


def run(requests: int, seed: int) -> list[dict]:
    factor = (
        PAPER_A100_DECODE_S / server_from_device("a", "a100-80gb", "bloom-176b", "nf4").decode_s
    )
    rows: list[dict] = []
    for size, S in SIZES.items():
        cl = random_cluster(seed, num_servers=S, num_blocks=70, num_clients=10, jobs_per_client=2)
        L = cl.num_blocks
        pl = get_algorithm("cg-bprr").solve(cl).placement
        assert pl is not None
        rng = np.random.default_rng(seed)
        jobs = [Job(int(rng.integers(cl.num_clients)), L_IN, L_OUT) for _ in range(requests)]
        bare = JointCluster.without_devices(cl)
        t0 = []  # BPRR's time per request (client runs nothing)
        for job in jobs:
            a = best_route(bare, pl, job)
            t0.append(a.score.total_s if a.score is not None else np.inf)
        # SplitLLM's server per client: the fastest single server hosting every block
        single = {}
        for c in range(cl.num_clients):
            job = Job(c, L_IN, L_OUT)
            times = [best_route(bare, _single(S, j, L), job).score.total_s for j in range(S)]  # type: ignore[union-attr]
            single[c] = _single(S, int(np.argmin(times)), L)
        for cls, name in CLASSES.items():
            jc = JointCluster(cl, (device_for(name, factor),) * cl.num_clients)
            tic = time.perf_counter()
            joint_t = [best_route(jc, pl, job) for job in jobs]
            split_t = [best_route(jc, single[job.client], job) for job in jobs]
            for f in SLA_FACTORS:
                row: dict = {
                    "swarm": size,
                    "servers": S,
                    "client": cls,
                    "client_max_blocks": jc.max_client_blocks(jobs[0]),
                    "sla_factor": f,
                    "requests": requests,
                }
                for sysname, pls in (("joint", None), ("splitllm", single)):
                    met, blocks, pt = 0, [], []
                    for job, t in zip(jobs, t0, strict=True):
                        if not np.isfinite(t):
                            continue
                        p = pl if pls is None else pls[job.client]
                        a = best_route(jc, p, job, "swarm-work", f * t)
                        if a.status == "optimal" and a.score is not None:
                            met += 1
                            blocks.append(a.score.swarm_blocks)
                            pt.append(a.score.per_token_s)
                    row[f"{sysname}_met_pct"] = 100.0 * met / requests
                    row[f"{sysname}_work_saved_pct"] = (
                        100.0 * (1 - np.mean(blocks) / L) if blocks else float("nan")
                    )
                    row[f"{sysname}_sla_per_token_s"] = float(np.mean(pt)) if pt else float("nan")
                ok_b = [t / L_OUT for t in t0 if np.isfinite(t)]
                row["bprr_per_token_s"] = float(np.mean(ok_b))
                for sysname, ans in (("joint", joint_t), ("splitllm", split_t)):
                    ok = [a.score.per_token_s for a in ans if a.score is not None]
                    row[f"{sysname}_time_per_token_s"] = float(np.mean(ok)) if ok else float("nan")
                row["dp_s"] = time.perf_counter() - tic
                rows.append(row)
    return rows


COLS = (
    ("swarm", "swarm", "{}"),
    ("servers", "servers", "{}"),
    ("client", "client", "{}"),
    ("sla_factor", "SLA (x BPRR)", "{:g}"),
    ("joint_work_saved_pct", "joint: swarm work saved", "{:.1f} %"),
    ("splitllm_work_saved_pct", "SplitLLM: server work saved", "{:.1f} %"),
    ("splitllm_met_pct", "SplitLLM: SLA met", "{:.0f} %"),
    ("bprr_per_token_s", "BPRR per-token (s)", "{:.3f}"),
    ("joint_time_per_token_s", "joint per-token, time obj. (s)", "{:.3f}"),
    ("splitllm_time_per_token_s", "SplitLLM per-token, time obj. (s)", "{:.3f}"),
)


def write(rows: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    write_md(out.with_suffix(".csv"))


def _read(csv_path: Path) -> list[dict]:
    with open(csv_path, newline="") as f:
        return list(csv.DictReader(f))


def write_md(csv_path: Path) -> None:
    rows = _read(csv_path)
    lines = [
        "<!-- generated by benchmarks/joint_study_sweep.py; do not edit -->",
        f"Generated by `python benchmarks/joint_study_sweep.py --requests "
        f"{rows[0]['requests']}` (its docstring states the setting). The joint system "
        "meets every SLA (factor >= 1) by construction: BPRR's route is one of its routes.",
        "",
        "| " + " | ".join(c[1] for c in COLS) + " |",
        "|" + "---|" * len(COLS),
    ]
    for r in rows:
        cells = []
        for k, _, fmt in COLS:
            v = r[k]
            cells.append(fmt.format(float(v)) if "{:" in fmt and fmt != "{}" else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    csv_path.with_suffix(".md").write_text("\n".join(lines) + "\n")


_TEX_SIZE = {"small": "Small", "medium": "Medium", "large": "Large"}
_TEX_CLS = {"phone": "Phone", "laptop": "Laptop", "workstation": "Workstation"}
_TEX_SLA = {"1.0": "One", "1.25": "OneTwoFive", "1.5": "OneFive", "2.0": "Two", "3.0": "Three"}


def write_tex(csv_path: Path) -> Path:
    """``joint_study_sweep.tex``: one macro per quoted figure and the paper's table
    (large swarm, every class and SLA), from the CSV alone."""
    rows = _read(csv_path)
    out = ["% generated by benchmarks/joint_study_sweep.py from joint_study_sweep.csv; do not edit"]
    for r in rows:
        key = (
            _TEX_SIZE[r["swarm"]]
            + _TEX_CLS[r["client"]]
            + "Sla"
            + _TEX_SLA[str(float(r["sla_factor"]))]
        )
        for col, name in (
            ("joint_work_saved_pct", "JointSaved"),
            ("splitllm_work_saved_pct", "SplitSaved"),
            ("splitllm_met_pct", "SplitMet"),
        ):
            out.append(f"\\newcommand{{\\jointSweep{key}{name}}}{{{float(r[col]):.1f}}}")
        if r["sla_factor"] in ("1.0", "1"):
            k2 = _TEX_SIZE[r["swarm"]] + _TEX_CLS[r["client"]]
            for col, name in (
                ("bprr_per_token_s", "BprrPerToken"),
                ("joint_time_per_token_s", "JointPerToken"),
                ("splitllm_time_per_token_s", "SplitPerToken"),
            ):
                out.append(f"\\newcommand{{\\jointSweep{k2}{name}}}{{{float(r[col]):.3f}}}")
    out.append(
        f"\\newcommand{{\\jointSweepRequests}}{{{int(rows[0]['requests']):,}}}".replace(",", "{,}")
    )
    servers = {r["swarm"]: r["servers"] for r in rows}
    for size, n in servers.items():
        out.append(f"\\newcommand{{\\jointSweep{_TEX_SIZE[size]}Servers}}{{{n}}}")
    body = [
        "\\begin{tabular}{llrrrrr}",
        "\\toprule",
        " & & \\multicolumn{5}{c}{work saved (\\%), SLA $=$ factor $\\times$ BPRR} \\\\",
        "\\cmidrule(lr){3-7}",
        "swarm & client & $1\\times$ & $1.25\\times$ & $1.5\\times$ & $2\\times$ & $3\\times$ \\\\",
        "\\midrule",
    ]
    for size in SIZES:
        for cls in CLASSES:
            sel = [r for r in rows if r["swarm"] == size and r["client"] == cls]
            if not sel:
                continue
            j = " & ".join(f"{float(r['joint_work_saved_pct']):.1f}" for r in sel)
            s = " & ".join(
                f"{float(r['splitllm_work_saved_pct']):.1f}/{float(r['splitllm_met_pct']):.0f}"
                for r in sel
            )
            body.append(f"{size} ({sel[0]['servers']}) & {cls}, joint & {j} \\\\")
            body.append(f" & {cls}, SplitLLM & {s} \\\\")
        body.append("\\midrule" if size != "large" else "\\bottomrule")
    body.append("\\end{tabular}")
    out.append("\\newcommand{\\jointSweepTable}{%")
    out += [b + "%" if b.endswith("}") else b for b in body]
    out.append("}")
    path = csv_path.with_suffix(".tex")
    path.write_text("\n".join(out) + "\n")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tex-only", action="store_true", help="only the .md/.tex from the CSV")
    a = ap.parse_args()
    if a.tex_only:
        write_md(OUT.with_suffix(".csv"))
        print(write_tex(OUT.with_suffix(".csv")))
        return 0
    t0 = time.perf_counter()
    rows = run(a.requests, a.seed)
    write(rows, OUT)
    write_tex(OUT.with_suffix(".csv"))
    print(OUT.with_suffix(".md").read_text())
    print(f"{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
