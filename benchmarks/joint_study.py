"""Clients that run blocks too: how much per-token time and swarm work a capable
client saves (quick study; writes ``paper/generated/joint_study.{csv,md}``).

    python benchmarks/joint_study.py [--requests N] [--seed S]
    python benchmarks/joint_study.py --tex-only   # joint_study.tex from the committed CSV

It also writes ``paper/generated/joint_study.tex`` (the paper's table and its
``\\jointStudy...`` macros) from the CSV.

Setting (all ours unless named): the shipped clusters ``paper-clustered`` (3 sites,
BLOOM-176B NF4, the paper's A100/MIG figures) and ``random-150x70-s1`` (150
servers, 70 blocks); the swarm's placement is CG-BPRR's (client-unaware) for the
cluster's own jobs; every client is a device of one class: none (the many-server
model), phone (Snapdragon 8 Gen 3), laptop (Apple M2), workstation (RTX 4090), with
half its memory usable by the model. Client per-block times are the cost model's
roofline times multiplied by the ratio of the paper's measured A100 decode time to
the roofline's A100 decode time (so clients and servers run an engine equally far
from the roofline). Requests: N requests from random clients (seeded), l_in = 20,
l_out = 128. Routes: the exact joint DP per request. Objectives: least T_r
("time"), and least swarm blocks within SLA = (1 + slack) x T_r of the
client-runs-nothing route, slack 0, 0.2 and 1 ("swarm-work"). Routes are chosen
per request: whether the swarm's cache memory admits them concurrently is not asked
here (CG-BPRR reserves cache for the cluster's own job count on every block).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from splitopt.formats.cluster_file import read_cluster
from splitopt.joint import ClientDevice, JointCluster, best_route
from splitopt.placement import get_algorithm
from splitopt.placement.model import Job
from splitopt.scenario.client_devices import client_device
from splitopt.scenario.cluster import server_from_device

ROOT = Path(__file__).resolve().parents[1]
CLUSTERS = ("paper-clustered", "random-150x70-s1")
#: SLA = (1 + slack) x the request's time when its client runs nothing
SLACKS = (0.0, 0.2, 1.0)
CLASSES = {
    "none": None,
    "phone": "snapdragon-8-gen-3",
    "laptop": "apple-m2",
    "workstation": "rtx-4090",
}
PAPER_A100_DECODE_S = 0.0032197  # the authors' scripts (SPEC: A100-80GB tau)


def engine_factor(arch: str, dtype: str) -> float:
    roof = server_from_device("a100", "a100-80gb", arch, dtype).decode_s
    return PAPER_A100_DECODE_S / roof


def device_for(cls: str, arch: str, dtype: str, factor: float) -> ClientDevice:
    name = CLASSES[cls]
    if name is None:
        return ClientDevice()
    d = client_device(name, arch, dtype)
    return ClientDevice(
        memory_bytes=d.memory_bytes,
        decode_s=d.decode_s * factor,
        prefill_s0=d.prefill_s0 * factor,
        prefill_s1=d.prefill_s1 * factor,
    )


def run(requests: int, seed: int) -> list[dict]:
    rows = []
    for cname in CLUSTERS:
        cl = read_cluster(ROOT / "instances" / "clusters" / f"{cname}.json")
        res = get_algorithm("cg-bprr").solve(cl)
        pl = res.placement
        assert pl is not None
        rng = np.random.default_rng(seed)
        jobs = [
            Job(client=int(rng.integers(cl.num_clients)), l_in=20, l_out=128)
            for _ in range(requests)
        ]
        factor = engine_factor("bloom-176b", "nf4")
        base = JointCluster.without_devices(cl)
        base_t = []
        for job in jobs:
            a = best_route(base, pl, job)
            base_t.append(a.score.total_s if a.score is not None else np.inf)
        for cls in CLASSES:
            jc = JointCluster(cl, (device_for(cls, "bloom-176b", "nf4", factor),) * cl.num_clients)
            t0 = time.perf_counter()
            ans = [best_route(jc, pl, job) for job in jobs]
            dt = time.perf_counter() - t0
            ok = [a for a in ans if a.status == "optimal" and a.score is not None]
            saved = {}
            for slack in SLACKS:
                sla = [
                    best_route(jc, pl, job, "swarm-work", t * (1 + slack))
                    if np.isfinite(t)
                    else None
                    for job, t in zip(jobs, base_t, strict=True)
                ]
                oks = [a for a in sla if a is not None and a.status == "optimal" and a.score]
                saved[slack] = (
                    100 * (1 - np.mean([a.score.swarm_blocks for a in oks]) / cl.num_blocks)
                    if oks
                    else float("nan")
                )
            per_tok = np.array([a.score.per_token_s for a in ok])
            base_pt = np.array([t / 128 for t in base_t if np.isfinite(t)])
            L = cl.num_blocks
            rows.append(
                {
                    "cluster": cname,
                    "client": cls,
                    "client_device": CLASSES[cls] or "-",
                    "client_max_blocks": jc.max_client_blocks(jobs[0]),
                    "requests": requests,
                    "served": len(ok),
                    "per_token_s": float(per_tok.mean()) if ok else float("nan"),
                    "per_token_saving_pct": 100 * (1 - per_tok.mean() / base_pt.mean())
                    if ok and base_pt.size
                    else float("nan"),
                    "client_blocks_time_obj": float(np.mean([a.score.client_blocks for a in ok])),
                    **{f"swarm_work_saved_pct_sla{round(100 * k)}": v for k, v in saved.items()},
                    "dp_ms_per_request": 1e3 * dt / requests,
                    "servers": cl.num_servers,
                    "blocks": L,
                }
            )
    return rows


def write(rows: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    cols = [
        ("cluster", "cluster", "{}"),
        ("client", "client", "{}"),
        ("client_max_blocks", "client can hold (blocks)", "{}"),
        ("per_token_s", "per-token time (s)", "{:.4f}"),
        ("per_token_saving_pct", "time saved vs client runs nothing", "{:.1f} %"),
        ("client_blocks_time_obj", "client blocks (time obj.)", "{:.2f}"),
        ("swarm_work_saved_pct_sla0", "swarm work saved, SLA = 1.0 x", "{:.1f} %"),
        ("swarm_work_saved_pct_sla20", "SLA = 1.2 x", "{:.1f} %"),
        ("swarm_work_saved_pct_sla100", "SLA = 2 x", "{:.1f} %"),
        ("dp_ms_per_request", "DP ms / request", "{:.3f}"),
    ]
    lines = [
        "| " + " | ".join(c[1] for c in cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for r in rows:
        lines.append("| " + " | ".join(fmt.format(r[k]) for k, _, fmt in cols) + " |")
    out.with_suffix(".md").write_text(
        "<!-- generated by benchmarks/joint_study.py; do not edit -->\n" + "\n".join(lines) + "\n"
    )


_TEX_CLUSTER = {"paper-clustered": "Clustered", "random-150x70-s1": "Random"}
_TEX_CLIENT = {"none": "None", "phone": "Phone", "laptop": "Laptop", "workstation": "Workstation"}


def write_tex(csv_path: Path) -> Path:
    """``joint_study.tex`` beside ``csv_path``: the paper's table (the DP's runtime left
    to macros) and one macro per figure the text quotes, from the CSV alone."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    lines = [
        "% generated by benchmarks/joint_study.py from joint_study.csv; do not edit",
    ]
    for r in rows:
        key = _TEX_CLUSTER.get(r["cluster"], "X") + _TEX_CLIENT.get(r["client"], "X")
        for col, name, fmt in (
            ("per_token_saving_pct", "TimeSaved", "{:.1f}"),
            ("swarm_work_saved_pct_sla0", "WorkSavedSlaOne", "{:.1f}"),
            ("swarm_work_saved_pct_sla20", "WorkSavedSlaOneTwo", "{:.1f}"),
            ("swarm_work_saved_pct_sla100", "WorkSavedSlaTwo", "{:.1f}"),
            ("client_max_blocks", "MaxBlocks", "{}"),
            ("client_blocks_time_obj", "ClientBlocks", "{:.2f}"),
        ):
            value = fmt.format(float(r[col]) if "." in fmt else r[col])
            lines.append(f"\\newcommand{{\\jointStudy{key}{name}}}{{{value}}}")
    ms = [float(r["dp_ms_per_request"]) for r in rows]
    lines += [
        f"\\newcommand{{\\jointStudyRequests}}{{{int(rows[0]['requests']):,}}}".replace(",", "{,}"),
        f"\\newcommand{{\\jointStudyDpMsMin}}{{{min(ms):.2f}}}",
        f"\\newcommand{{\\jointStudyDpMsMax}}{{{max(ms):.2f}}}",
    ]
    # the table: float in the paper, so only the tabular here
    body = [
        "\\begin{tabular}{llrrrrrrr}",
        "\\toprule",
        " & & can & per-token & time & client & \\multicolumn{3}{c}{swarm work saved (\\%)} \\\\",
        "\\cmidrule(lr){7-9}",
        "cluster & client & hold & time (s) & saved (\\%) & blocks"
        " & SLA $1\\times$ & $1.2\\times$ & $2\\times$ \\\\",
        "\\midrule",
    ]
    for i, r in enumerate(rows):
        if i and r["cluster"] != rows[i - 1]["cluster"]:
            body.append("\\midrule")
        body.append(
            f"\\texttt{{{r['cluster']}}} & {r['client']} & {r['client_max_blocks']} & "
            f"{float(r['per_token_s']):.4f} & {float(r['per_token_saving_pct']):.1f} & "
            f"{float(r['client_blocks_time_obj']):.2f} & "
            f"{float(r['swarm_work_saved_pct_sla0']):.1f} & "
            f"{float(r['swarm_work_saved_pct_sla20']):.1f} & "
            f"{float(r['swarm_work_saved_pct_sla100']):.1f} \\\\"
        )
    body += ["\\bottomrule", "\\end{tabular}"]
    lines.append("\\newcommand{\\jointStudyTable}{%")
    lines += [b + "%" if b.endswith("}") else b for b in body]
    lines.append("}")
    out = csv_path.with_suffix(".tex")
    out.write_text("\n".join(lines) + "\n")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "paper" / "generated" / "joint_study")
    ap.add_argument(
        "--tex-only", action="store_true", help="only write the .tex from the existing CSV"
    )
    a = ap.parse_args()
    if a.tex_only:
        print(write_tex(a.out.with_suffix(".csv")))
        return
    rows = run(a.requests, a.seed)
    write(rows, a.out)
    write_tex(a.out.with_suffix(".csv"))
    print(a.out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
