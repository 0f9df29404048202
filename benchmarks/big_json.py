"""Big JSON benchmark: n distinct 8-layer requests, JSON in and JSON out through
``splitopt solve FILE --solver dp --json OUT``, against the bare kernel.

Usage::

    .venv/bin/python benchmarks/big_json.py [--n 100000] [--layers 8] [--seed 1]
        [--no-before] [--md benchmarks/generated/big_json.md]

Measured in one run (same machine, same requests; our synthetic LLM-like data,
:func:`benchmarks.scale_distinct.llm_batch`, memory budgets on):

- ``kernel``: the bare compute of the default ``dp`` on the chains, the batched
  label DP (:func:`splitopt.solvers.batch.solve_labels_batch` on the ragged
  arrays; warm, best of 3);
- ``read``: :func:`splitopt.formats.problem_file.read_problem` in this process,
  with the strict stdlib parser alone (``before``) and with orjson (``after``);
- ``whole``: the CLI command's wall time as a subprocess (imports, read, solve,
  evaluator, the comparison table, the solution file), with ``SPLITOPT_JSON=stdlib``
  (``before``: main's parser) and without (``after``).

The table (Markdown) goes to ``--md``; the ratio whole/kernel is the figure the
issue's target (<= 5x) is about.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

from benchmarks.scale_distinct import llm_batch
from splitopt.ragged import ChainBatch


def problem_bytes(b: ChainBatch, name: str) -> bytes:
    """The ``splitopt-problem`` JSON of ``b`` (request ids ``r0, r1, ...``)."""
    off, boff = b.offsets, b.boundary_offsets
    reqs = []
    for i in range(len(b)):
        s, e, bs, be = int(off[i]), int(off[i + 1]), int(boff[i]), int(boff[i + 1])
        budget = float(b.memory_budget_bytes[i])
        reqs.append(
            {
                "id": f"r{i}",
                "client_time_s": b.client_time_s[s:e],
                "server_time_s": b.server_time_s[s:e],
                "server_work": b.server_work[s:e],
                "uplink_s": b.uplink_s[bs:be],
                "downlink_s": b.downlink_s[bs:be],
                "client_memory_bytes": b.client_memory_bytes[s:e],
                "sla_s": float(b.sla_s[i]),
                **({} if np.isnan(budget) else {"memory_budget_bytes": budget}),
            }
        )
    doc = {"format": "splitopt-problem", "version": 1, "name": name, "requests": reqs}
    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)


def kernel_s(b: ChainBatch, repeat: int = 3) -> float:
    """Best-of-``repeat`` wall time of the batched label DP on ``b`` (warm)."""
    from splitopt.solvers.batch import solve_labels_batch, warm_up_batch
    from splitopt.solvers.dp import RTOL

    warm_up_batch(grid=False)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        solve_labels_batch(b, RTOL)
        times.append(time.perf_counter() - t0)
    return min(times)


def read_s(path: str, fast: bool) -> float:
    from splitopt.formats import errors
    from splitopt.formats.problem_file import read_problem

    old = errors._FAST
    errors._FAST = fast
    try:
        t0 = time.perf_counter()
        read_problem(path)
        return time.perf_counter() - t0
    finally:
        errors._FAST = old


def whole_s(path: str, out: str, stdlib: bool) -> float:
    env = dict(os.environ)
    env.pop("SPLITOPT_JSON", None)
    if stdlib:
        env["SPLITOPT_JSON"] = "stdlib"
    cmd = [sys.executable, "-m", "splitopt", "solve", path, "--solver", "dp", "--json", out]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-before", action="store_true", help="skip main's (stdlib) path")
    ap.add_argument("--md", default=None, help="write the Markdown table here")
    a = ap.parse_args(argv)
    b = llm_batch(a.n, a.layers, memory=True, seed=a.seed)
    rows: list[tuple[str, float, float | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "big.json")
        data = problem_bytes(b, "big")
        Path(path).write_bytes(data)
        k = kernel_s(b)
        rows.append(("kernel: batched label DP (warm, best of 3)", k, None))
        paths = [False] if a.no_before else [True, False]
        for stdlib in paths:
            tag = "before (stdlib json)" if stdlib else "after (orjson)"
            rows.append((f"read_problem, {tag}", read_s(path, not stdlib), None))
        for stdlib in paths:
            tag = "before (stdlib json)" if stdlib else "after (orjson)"
            w = whole_s(path, str(Path(tmp) / "out.json"), stdlib)
            rows.append((f"whole `splitopt solve --solver dp --json`, {tag}", w, w / k))
    lines = [
        f"# Big JSON: {a.n:,} distinct {a.layers}-layer requests (seed {a.seed}, "
        f"memory budgets), {len(data) / 1e6:.0f} MB of problem JSON",
        "",
        f"Generated by `python benchmarks/big_json.py --n {a.n} --layers {a.layers} "
        f"--seed {a.seed}` (one run; {os.cpu_count()} cores, shared machine).",
        "",
        "| what | time [s] | ÷ kernel |",
        "|---|---:|---:|",
    ]
    for what, t, r in rows:
        lines.append(f"| {what} | {t:.3f} | {'' if r is None else f'{r:.0f}×'} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.md:
        Path(a.md).parent.mkdir(parents=True, exist_ok=True)
        Path(a.md).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
