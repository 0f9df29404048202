"""Exactness harness of the online simulator: a digest of every per-request output.

Runs every policy (:data:`splitopt.placement.online.DEFAULT_POLICIES` plus
``cg-bp+shortest``) on several clusters (the 150-server benchmark cluster at light,
congested and overloaded rates; the shipped ``instances/clusters/scenarios/*.json``
and ``paper-clustered.json`` at their own and higher rates; ``tiny.json``), several
seeds, with and without the authors' delays, and hashes the raw bytes of each run's
per-request arrays: admission, service, prefill (hence wait, TTFT, per-token time and
served), requests seen in the system, and the route of each request.

A speed-up of the simulator kernels must leave every digest bit-identical:

    python benchmarks/sim_exactness.py --check    # compare with sim_exactness.json
    python benchmarks/sim_exactness.py --write    # record (only on trusted code)

``--check`` prints each case that differs and exits 1 if any does. With
``--via-joint`` every run goes through the simulator of clients that run blocks
(:mod:`splitopt.joint.online`) with every client's device holding nothing (memory 0,
fast compute): the recorded digests must come out unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from splitopt.formats.cluster_file import read_cluster
from splitopt.placement.online import (
    AUTHORS_ALLOC_DELAY_S,
    DEFAULT_POLICIES,
    run_prepared,
)
from splitopt.placement.policies import prepare  # through the policy registry
from splitopt.placement.simulate import Workload

ROOT = Path(__file__).resolve().parents[1]
DIGESTS = Path(__file__).with_name("sim_exactness.json")
POLICIES = (*DEFAULT_POLICIES, "cg-bp+shortest")
SEEDS = (0, 1, 2)


def cases() -> list[tuple[str, float, int, tuple[str, ...]]]:
    """(cluster file, rate req/s, requests, policies) per case."""
    big = "instances/clusters/random-150x70-s1.json"
    no_simopt = tuple(p for p in POLICIES if not p.startswith("sim-opt"))
    out = [(big, r, 3000, no_simopt) for r in (0.5, 2.0, 5.0)]
    small = sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "instances/clusters/scenarios").glob("*.json")
    )
    small += ["instances/clusters/paper-clustered.json"]
    for f in small:
        for r in (0.1, 0.5, 2.0):
            out.append((f, r, 600, POLICIES))
    out.append(("instances/clusters/tiny.json", 1.0, 400, POLICIES))
    return out


def digest(run) -> str:
    h = hashlib.sha256()
    for a in (run.arrive, run.admit, run.service, run.prefill, run.l_out):
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(run.in_system_seen, dtype=np.int64).tobytes())
    for route in run.info.get("routes", ()):
        h.update(np.asarray(route, dtype=np.int64).tobytes())
        h.update(b"|")
    return h.hexdigest()[:32]


def run_all(verbose: bool = False, via_joint: bool = False) -> dict[str, str]:
    out: dict[str, str] = {}
    for f, rate, n, policies in cases():
        cluster = read_cluster(ROOT / f)
        fixed_for = None
        if via_joint:
            from splitopt.joint import ClientDevice, JointCluster
            from splitopt.joint.online import fixed_for as joint_fixed_for

            none = ClientDevice(0.0, 1e-6, 0.0, 0.0)  # holds nothing, however fast
            jc = JointCluster(cluster, (none,) * cluster.num_clients)
        wl = Workload.from_cluster(cluster, rate_per_s=rate, num_requests=n)
        if via_joint:
            fixed_for = joint_fixed_for(jc, wl.classes)
        for p in policies:
            for seed in SEEDS:
                prep = prepare(cluster, wl, p, seed, {"R": 8, "c": 8} if "150" in f else None)
                for authors in (False, True):
                    delay = 0.0
                    if authors:
                        key = "petals" if prep.routing == "petals" else "proposed"
                        delay = AUTHORS_ALLOC_DELAY_S[key]
                    t0 = time.perf_counter()
                    run = run_prepared(
                        cluster,
                        wl,
                        prep,
                        seed,
                        authors_backoff=authors,
                        alloc_delay_s=delay,
                        record_routes=prep.routing != "jffc",
                        fixed=None if fixed_for is None else fixed_for(prep),
                    )
                    name = f"{f}|{rate}|{n}|{p}|{seed}|{'authors' if authors else 'ours'}"
                    out[name] = digest(run)
                    if verbose:
                        print(f"{time.perf_counter() - t0:7.3f}s {name}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", action="store_true", help="record the digests")
    g.add_argument("--check", action="store_true", help="compare with the recorded digests")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument(
        "--via-joint",
        action="store_true",
        help="run through splitopt.joint.online with clients that hold nothing (--check only)",
    )
    args = ap.parse_args(argv)
    if args.via_joint and args.write:
        ap.error("--via-joint checks; it never records")
    t0 = time.perf_counter()
    got = run_all(args.verbose, args.via_joint)
    took = time.perf_counter() - t0
    if args.write:
        DIGESTS.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(got)} digests to {DIGESTS.name} ({took:.1f} s)")
        return 0
    want = json.loads(DIGESTS.read_text())
    bad = [k for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k)]
    for k in bad:
        print(f"DIFFERS: {k}: recorded {want.get(k)} now {got.get(k)}")
    print(f"{len(got) - len(bad)}/{len(set(want) | set(got))} digests identical ({took:.1f} s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
