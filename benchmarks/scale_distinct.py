"""Scale benchmark for *distinct* requests (issue 14): batched ``dp`` against the bare
kernel, JSON against columnar reading, and big columnar files.

Usage::

    .venv/bin/python benchmarks/scale_distinct.py ratios [--n 100000] [--layers 8,34,80]
    .venv/bin/python benchmarks/scale_distinct.py read [--n 100000] [--layers 8]
    .venv/bin/python benchmarks/scale_distinct.py make BIG.parquet --n 1000000 --layers 34

``ratios``: for each L, with and without memory budgets, n distinct LLM-like
requests (every number jittered, so no two chains are equal). Measured in one
run: the bare kernel's compute (``grid_dp_batch`` on the pre-ticked chains, one
thread and all threads), ``dp``'s ``solve`` on the in-memory problem (ticking,
kernel, evaluator, result objects; the batched path) and the streamed columnar
solve (read, validate, solve, evaluate, write). Printed as requests/s and as a
ratio to the one-thread bare kernel.

``read``: the same requests written as a JSON problem file and as Parquet; read
throughput (MB of file per second) of the JSON reader (to a ``Problem``) and of
the columnar reader (validated ragged arrays), and the ratio.

``make``: writes n distinct requests to a columnar file in batches (bounded memory).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator

import numpy as np

from splitopt.problem import Problem, Request
from splitopt.ragged import ChainBatch


def llm_batch(n: int, L: int, *, memory: bool, seed: int) -> ChainBatch:
    """n distinct LLM-like chains of L layers (vectorised; our synthetic data).

    Per layer: client 80 ms x U(1, 1.5), server 10 ms x U(1, 1.5), work 2e11 x U(1, 1.2)
    FLOP, memory 0.5 GB x U(1, 1.2); per boundary: up 40 ms x U(1, 2), down 20 ms
    x U(1, 2). SLA: server-only latency x U(1.2, 3) (so server-only is feasible).
    Budget (``memory``): U(0.2, 0.8) of the whole model's memory.
    """
    rng = np.random.default_rng(seed)
    m = n * L
    client = 0.080 * (1 + 0.5 * rng.random(m))
    server = 0.010 * (1 + 0.5 * rng.random(m))
    work = 2e11 * (1 + 0.2 * rng.random(m))
    mem = 5e8 * (1 + 0.2 * rng.random(m))
    up = 0.040 * (1 + rng.random(n * (L + 1)))
    down = 0.020 * (1 + rng.random(n * (L + 1)))
    offsets = np.arange(n + 1, dtype=np.int64) * L
    so = server.reshape(n, L).sum(axis=1)
    u = up.reshape(n, L + 1)
    d = down.reshape(n, L + 1)
    sla = (so + u[:, 0] + d[:, L]) * rng.uniform(1.2, 3.0, n)
    budget = np.full(n, np.nan)
    if memory:
        budget = mem.reshape(n, L).sum(axis=1) * rng.uniform(0.2, 0.8, n)
    return ChainBatch(
        offsets=offsets,
        client_time_s=client,
        server_time_s=server,
        server_work=work,
        uplink_s=up,
        downlink_s=down,
        client_memory_bytes=mem,
        sla_s=sla,
        memory_budget_bytes=budget,
        start_server=np.zeros(n, bool),
        end_server=np.zeros(n, bool),
    )


def batches(n: int, L: int, memory: bool, seed: int, rows: int = 50_000) -> Iterator:
    for k, s in enumerate(range(0, n, rows)):
        c = min(rows, n - s)
        yield (
            [f"r{i}" for i in range(s, s + c)],
            np.ones(c),
            llm_batch(c, L, memory=memory, seed=seed + k),
        )


def to_problem(ids: list[str], b: ChainBatch, name: str) -> Problem:
    reqs = tuple(Request(id=i, chain=c) for i, c in zip(ids, b.chains(), strict=True))
    return Problem(name=name, requests=reqs, work_unit="FLOP")


def _bare(b: ChainBatch, threads: int) -> float:
    import numba

    from splitopt.solvers.batch import _args, grid_dp_batch, tick_batch

    t = tick_batch(b)
    old = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        grid_dp_batch(*_args(t, t.use_memory))  # warm
        t0 = time.perf_counter()
        grid_dp_batch(*_args(t, t.use_memory))
        return time.perf_counter() - t0
    finally:
        numba.set_num_threads(old)


def cmd_ratios(args: argparse.Namespace) -> None:
    import numba

    from splitopt.formats.columnar import write_problem_batches
    from splitopt.solvers import get_solver
    from splitopt.solvers.batch import warm_up_batch
    from splitopt.streaming import solve_file

    warm_up_batch()
    print(f"threads: {numba.get_num_threads()}")
    print(
        "| L | budgets | n | bare 1 thread (req/s) | bare all threads | dp solve (in memory) "
        "| ratio | streamed columnar solve | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    sizes = [int(x) for x in args.n.split(",")]
    mem_sizes = [int(x) for x in args.n_memory.split(",")]
    for k, L in enumerate(int(x) for x in args.layers.split(",")):
        for memory in (False, True):
            n = (mem_sizes if memory else sizes)[k]
            if n == 0:
                continue
            ids, _, b = next(batches(n, L, memory, args.seed, rows=n))
            t1 = _bare(b, 1)
            tn = _bare(b, numba.get_num_threads())
            problem = to_problem(ids, b, "bench")
            solver = get_solver("dp")
            warm = [f"w{i}" for i in range(100)]
            solver.solve(to_problem(warm, llm_batch(100, L, memory=memory, seed=1), "w"))
            t0 = time.perf_counter()
            res = solver.solve(problem)
            ts = time.perf_counter() - t0
            with tempfile.TemporaryDirectory() as tmp:
                f = os.path.join(tmp, "p.parquet")
                write_problem_batches(f, iter([(ids, np.ones(len(ids)), b)]), "bench")
                t0 = time.perf_counter()
                head = solve_file(f, os.path.join(tmp, "s.parquet"), progress=False)
                tc = time.perf_counter() - t0
            assert abs(head["objective"] - res.objective) <= 1e-9 * abs(res.objective)
            print(
                f"| {L} | {'yes' if memory else 'no'} | {n:,} | {n / t1:,.0f} | {n / tn:,.0f} "
                f"| {n / ts:,.0f} | {ts / t1:.2f} | {n / tc:,.0f} | {tc / t1:.2f} |"
            )


def cmd_read(args: argparse.Namespace) -> None:
    from splitopt.formats.columnar import ColumnarProblem, write_problem_batches
    from splitopt.formats.problem_file import read_problem, write_problem

    for L in [int(x) for x in args.layers.split(",")]:
        ids, w, b = next(batches(args.n, L, args.memory, args.seed, rows=args.n))
        with tempfile.TemporaryDirectory() as tmp:
            fj = os.path.join(tmp, "p.json")
            fc = os.path.join(tmp, "p.parquet")
            write_problem(to_problem(ids, b, "bench"), fj)
            write_problem_batches(fc, iter([(ids, w, b)]), "bench")
            sj, sc = os.path.getsize(fj), os.path.getsize(fc)
            t0 = time.perf_counter()
            read_problem(fj)
            tj = time.perf_counter() - t0
            t0 = time.perf_counter()
            for _ in ColumnarProblem(fc).batches(50_000):
                pass
            tc = time.perf_counter() - t0
            t0 = time.perf_counter()
            ColumnarProblem(fc).read()
            tp = time.perf_counter() - t0
        print(
            f"L={L} n={args.n:,}: JSON {sj / 1e6:.1f} MB read in {tj:.2f} s "
            f"({sj / 1e6 / tj:.1f} MB/s, "
            f"{args.n / tj:,.0f} req/s); Parquet {sc / 1e6:.1f} MB read+validated in {tc:.3f} s "
            f"({sc / 1e6 / tc:.1f} MB/s, {args.n / tc:,.0f} req/s); speed-up {tj / tc:.1f}x "
            f"(same requests); Parquet to a Problem object: {tp:.2f} s ({tj / tp:.1f}x)"
        )


def cmd_make(args: argparse.Namespace) -> None:
    from splitopt.formats.columnar import write_problem_batches

    L = int(args.layers)
    t0 = time.perf_counter()
    rows = write_problem_batches(
        args.path, batches(args.n, L, args.memory, args.seed), f"distinct-{args.n}-L{L}"
    )
    print(
        f"{args.path}: {rows:,} rows, {os.path.getsize(args.path) / 1e6:.1f} MB, "
        f"{time.perf_counter() - t0:.1f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("ratios")
    r.add_argument("--n", default="100000,10000,2000", help="requests per L (no budgets)")
    r.add_argument("--n-memory", default="2000,100,20", help="requests per L (budgets)")
    r.add_argument("--layers", default="8,34,80")
    rd = sub.add_parser("read")
    rd.add_argument("--n", type=int, default=100_000)
    rd.add_argument("--layers", default="8")
    rd.add_argument("--memory", action="store_true")
    mk = sub.add_parser("make")
    mk.add_argument("path")
    mk.add_argument("--n", type=int, default=1_000_000)
    mk.add_argument("--layers", default="34")
    mk.add_argument("--memory", action="store_true")
    for p in (r, rd, mk):
        p.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    {"ratios": cmd_ratios, "read": cmd_read, "make": cmd_make}[args.cmd](args)


if __name__ == "__main__":
    main()
