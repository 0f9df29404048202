"""Request-for-request check of ``--semantics authors`` against the authors' MATLAB.

The authors' simulator (GitHub TingyangSunJeff/LLM_inference_simulator) is not part of
this repository. This check runs it in GNU Octave from a checkout *outside* the project
(``--authors-dir``, default ``$SPLITOPT_AUTHORS_SIM`` or ``/work/authors-sim``) that
holds its functions (``WS_RR.m``, ``Petals_online.m``, ``CG_BP.m``, ...) with the shims
Octave needs (``Dijkstra_source.m``, missing upstream; string arrays as cellstr;
per-request outputs) and a driver ``run_cell.m`` that reads the inputs as JSON and
writes every request's completion time.

Cells: the clustered experiment of ``test_general_case_online.m`` (``realnet = 0``: 7
MIG 1g.10gb + 2 A100, the script's clustered constants: 50 ms / 55 ms overheads, 5 ms /
100 ms pings, tau 16.2488 / 2.2197 ms, 9.1 / 79.138 GB, l_in = 10, 100 ms initial
delay, 250 s / 60 s allocation delays) for a client site, a rate and l_out; and its
scattered experiment (``realnet = 1``) on splitopt's own draw of a Topology Zoo scenario
(9 servers, 20 % A100, l_in = 20, 70 ms initial delay), fed to the MATLAB. Both sides
get the same arrivals (splitopt's seeded Poisson draw, as inter-arrival ms), the same
PETALS join order (splitopt's seeded permutation) and the MATLAB's design R.

    python benchmarks/authors_check.py                      # the default cells
    python benchmarks/authors_check.py --site 0 --rate 0.1 --l-out 64 --requests 300

Per cell and policy it prints how many requests have identical completion times
(relative 1e-9) and identical routes, and the first difference.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from splitopt.placement.model import BlockModel, Cluster, Job, Server
from splitopt.placement.online import design_R, run_policy
from splitopt.placement.petals import Petals
from splitopt.placement.simulate import Workload
from splitopt.scenario.cluster import BLOOM_BLOCK_PARAMS, BLOOM_D, NF4_BYTES, SERVER_PRESETS

DEFAULT_DIR = Path(os.environ.get("SPLITOPT_AUTHORS_SIM", "/work/authors-sim"))
#: (client site, rate req/s, l_out, requests): the cells run by default.
DEFAULT_CELLS = (
    (2, 1.0, 128, 100),
    (0, 0.1, 64, 300),
    (1, 0.5, 64, 200),
    (2, 2.0, 32, 200),
    ("abvt", 0.1, 128, 200),
    ("bellcanada", 0.5, 128, 200),
    ("gtsce", 1.0, 64, 200),
)
POLICIES = {
    "cgbp": "cg-bp+ws-rr",
    "petals": "petals+petals",
    "petals_order": "petals-cg-order-paper+petals",
    "petals_number": "petals-cg-counts-paper+petals",
}


def available(authors_dir: Path = DEFAULT_DIR) -> bool:
    """Octave on the PATH and the outside checkout with its driver present."""
    return shutil.which("octave") is not None and (authors_dir / "run_cell.m").is_file()


def cell_inputs(site: int, l_out: int) -> tuple[dict, Cluster]:
    """The script's clustered constants (ms, GB) and the same cluster for splitopt (s, B)."""
    n_mig, n_a100, lc_in = 7, 2, 10
    S = n_mig + n_a100
    types = ["MIG"] * n_mig + ["A100"] * n_a100
    local, remote = {0: (100, 100), 1: (100, 5), 2: (5, 100)}[site]
    raw_cs = np.array([local] * n_mig + [remote] * n_a100, dtype=float)  # client-server ping
    rtt = 50 + raw_cs
    rtt_in = rtt - 50 + 55
    srv = np.full((S, S), 100.0)
    srv[:n_mig, :n_mig] = 5.0
    srv[n_mig:, n_mig:] = 5.0
    raw = np.zeros((S + 1, S + 1))
    raw[0, 1:] = raw_cs
    raw[1:, 1:] = srv
    tau = np.array([16.2488] * n_mig + [2.2197] * n_a100)
    tau_in = np.array([16.2488 + 35] * n_mig + [2.2197 + 5] * n_a100)
    M = np.array([9.1] * n_mig + [79.138427734375] * n_a100)
    sm = BLOOM_BLOCK_PARAMS * 4.25 / 8 * 1.01 / 1e9
    sc = 2 * BLOOM_D * (l_out + lc_in) * 2 / 1e9
    a, m = SERVER_PRESETS["a100-paper"], SERVER_PRESETS["mig-1g.10gb-paper"]
    thr = np.array(
        [[m["forward_rps"], m["network_rps"]]] * n_mig + [[a["forward_rps"], a["network_rps"]]] * 2
    )
    doc = {
        "RTT": rtt.tolist(),
        "RTT_input": rtt_in.tolist(),
        "RTT_raw": raw.tolist(),
        "tau": tau.tolist(),
        "tau_input": tau_in.tolist(),
        "M": M.tolist(),
        "sm": sm,
        "sc": sc,
        "L": 70,
        "lc": l_out,
        "server_types": types,
        "throughput": thr.tolist(),
        "d_model": BLOOM_D,
        "cache_bytes_per_block": np.floor(2 * BLOOM_D * 4096 * 2) / 1e9,
        "initial_delay": 100.0,
        "alloc_prop": 60e3,
        "alloc_petals": 25e4,
    }
    model = BlockModel(
        num_blocks=70,
        block_bytes=BLOOM_BLOCK_PARAMS * NF4_BYTES,
        cache_bytes_per_token=2 * BLOOM_D * 2,
        name="bloom-176b-nf4",
        hidden_size=BLOOM_D,
    )
    servers = tuple(
        Server(
            f"{t.lower()}-{j}",
            memory_bytes=M[j] * 1e9,
            decode_s=tau[j] / 1e3,
            prefill_s0=tau_in[j] / 1e3,
            prefill_s1=0.0,
            max_blocks=4 if t == "MIG" else None,
            forward_rps=thr[j, 0],
            network_rps=thr[j, 1],
        )
        for j, t in enumerate(types)
    )
    cluster = Cluster(
        f"authors-clustered-site{site}",
        model,
        servers,
        ("client",),
        rtt[None, :] / 1e3,
        rtt_in[None, :] / 1e3,
        np.zeros((1, S)),
        (Job(0, lc_in, l_out),),
        raw_cs[None, :] / 1e3,
        {"server_sites": [2] * n_mig + [1] * n_a100, "initial_delay_s": 0.100},
        srv / 1e3,
    )
    return doc, cluster


def inputs_from_cluster(cluster: Cluster, initial_delay_ms: float) -> dict:
    """The MATLAB inputs (ms, GB) of a one-client splitopt cluster whose servers are the
    paper presets (a MIG slice is a server capped at 4 blocks): e.g. a scattered draw of
    :func:`splitopt.scenario.topologies.scattered_cluster`, which builds the realnet
    branch of ``test_general_case_online.m`` (100 ms / 0.7049 l_in + 67 ms overheads,
    the presets' tau, prefill and memories)."""
    job = cluster.jobs[0]
    S = cluster.num_servers
    raw = np.zeros((S + 1, S + 1))
    raw[0, 1:] = cluster.network_rtt_s[0] * 1e3
    raw[1:, 1:] = cluster.server_rtt_s * 1e3
    types = ["MIG" if s.max_blocks == 4 else "A100" for s in cluster.servers]
    return {
        "RTT": (cluster.rtt_s[0] * 1e3).tolist(),
        "RTT_input": [cluster.prefill_rtt(0, j, job.l_in) * 1e3 for j in range(S)],
        "RTT_raw": raw.tolist(),
        "tau": (cluster.decode() * 1e3).tolist(),
        "tau_input": (cluster.prefill(job.l_in) * 1e3).tolist(),
        "M": (cluster.memory() / 1e9).tolist(),
        "sm": cluster.model.block_bytes / 1e9,
        "sc": cluster.model.cache_bytes(job.l_in, job.l_out) / 1e9,
        "L": cluster.num_blocks,
        "lc": job.l_out,
        "server_types": types,
        "throughput": [[s.forward_rps, s.network_rps] for s in cluster.servers],
        "d_model": cluster.model.hidden_size,
        "cache_bytes_per_block": np.floor(cluster.model.cache_bytes_per_token * 4096) / 1e9,
        "initial_delay": initial_delay_ms,
        "alloc_prop": 60e3,
        "alloc_petals": 25e4,
    }


def run_cell(
    site: int | str,
    rate: float,
    l_out: int,
    n: int,
    seed: int = 0,
    authors_dir: Path = DEFAULT_DIR,
) -> dict:
    """Run one cell on both sides; per policy the counts of identical requests. ``site``
    0-2: the clustered experiment's client site; a Topology Zoo name (``abvt``,
    ``bellcanada``, ``gtsce``): the scattered scenario drawn with ``seed``."""
    if isinstance(site, str):
        from splitopt.scenario.topologies import scattered_cluster

        cluster = scattered_cluster(site, seed, l_out=l_out)
        doc = inputs_from_cluster(cluster, 70.0)
    else:
        doc, cluster = cell_inputs(site, l_out)
    wl = Workload(rate, n, cluster.jobs)
    arrive, _ = wl.sample(seed)
    order = Petals(seed=seed).join_order(cluster)
    doc["inter_request_time"] = np.diff(arrive * 1e3, prepend=0.0).tolist()
    doc["order"] = (order + 1).tolist()
    doc["lambda_per_ms"] = rate / 1e3
    with tempfile.TemporaryDirectory() as tmp:
        fin, fout = Path(tmp, "in.json"), Path(tmp, "out.json")
        fin.write_text(json.dumps(doc))
        subprocess.run(
            ["octave", "--no-gui", "--quiet", "run_cell.m", str(fin), str(fout)],
            cwd=authors_dir,
            check=True,
            capture_output=True,
            timeout=3600,
        )
        out = json.loads(fout.read_text())
    R = int(out["R"])
    report: dict = {
        "cell": (site, rate, l_out, n, seed),
        "R_matlab": R,
        # ours by the same rule; the MATLAB's T1 (BPRR_heuristic_general_extended.m)
        # does not cap MIG slices at 4 blocks where CG_BP.m does, so the two may differ
        "R_ours": design_R(cluster, wl, doc["initial_delay"] / 1e3),
    }
    for key, policy in POLICIES.items():
        ours = run_policy(
            cluster, wl, policy, seed, {"R": R}, semantics="authors", record_routes=True
        )
        done = ours.admit + ours.alloc_delay_s + ours.service
        theirs = np.asarray(out[key]["completion"], dtype=float) / 1e3
        # the MATLAB's clock sums inter-arrival times; ours is their cumulative sum
        same = np.isclose(done, theirs, rtol=1e-9, atol=1e-9)
        paths = [tuple(int(j) - 1 for j in np.atleast_1d(p)) for p in out[key]["paths"]]
        route_same = [a == b for a, b in zip(ours.info["routes"], paths, strict=True)]
        first = int(np.flatnonzero(~same)[0]) if (~same).any() else None
        row = {
            "waited": int(((ours.admit - ours.arrive) > 0).sum()),
            "identical": int(same.sum()),
            "routes_identical": int(sum(route_same)),
            "requests": n,
            "per_token_matlab": float(np.mean((theirs - arrive) / l_out)),
            "per_token_ours": float(np.mean((done - arrive) / l_out)),
            "first_difference": first,
        }
        if "count" in out[key]:
            pl = ours.info
            row["blocks_matlab"] = int(np.sum(out[key]["count"]))
            row["blocks_ours"] = int(pl.get("blocks_hosted", -1))
        report[key] = row
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authors-dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--site", help="0, 1, 2 (clustered client site) or abvt / bellcanada / gtsce")
    ap.add_argument("--rate", type=float)
    ap.add_argument("--l-out", type=int)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the reports here")
    args = ap.parse_args(argv)
    if not available(args.authors_dir):
        print(f"octave or {args.authors_dir}/run_cell.m missing: nothing to check")
        return 2
    site = int(args.site) if args.site in ("0", "1", "2") else args.site
    cells = (
        [(site, args.rate, args.l_out, args.requests)]
        if args.site is not None
        else list(DEFAULT_CELLS)
    )
    reports = []
    for site, rate, l_out, n in cells:
        rep = run_cell(site, rate, l_out, n, args.seed, args.authors_dir)
        reports.append(rep)
        print(
            f"cell site={site} rate={rate} l_out={l_out} n={n}: R = {rep['R_matlab']} "
            f"(ours by the rule: {rep['R_ours']})"
        )
        for key in POLICIES:
            r = rep[key]
            print(
                f"  {POLICIES[key]:30s} waited {r['waited']:3d}, identical {r['identical']}/"
                f"{r['requests']}, routes "
                f"{r['routes_identical']}/{r['requests']}, per-token {r['per_token_matlab']:.4f}"
                f" (MATLAB) vs {r['per_token_ours']:.4f} s; first difference: "
                f"{r['first_difference']}"
            )
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
