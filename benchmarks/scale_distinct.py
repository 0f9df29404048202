"""Scale benchmark for *distinct* requests (issue 14): batched ``dp`` against the bare
kernel, JSON against columnar reading, and big columnar files.

Usage::

    .venv/bin/python benchmarks/scale_distinct.py ratios [--n 100000] [--layers 8,34,80]
    .venv/bin/python benchmarks/scale_distinct.py read [--n 100000] [--layers 8]
    .venv/bin/python benchmarks/scale_distinct.py make BIG.parquet --n 1000000 --layers 34
    .venv/bin/python benchmarks/scale_distinct.py chunks BIG.parquet SOL.parquet --chunk-rows 10000

``ratios``: for each L, with and without memory budgets, n distinct LLM-like
requests (every number jittered, so no two chains are equal). Measured in one
run: the bare kernel's compute (``grid_dp_batch`` on the pre-ticked chains, one
thread and all threads), ``dp``'s ``solve`` on the in-memory problem (ticking,
kernel, evaluator, result objects; the batched path) and the streamed columnar
solve (read, validate, solve, evaluate, write). Printed as requests/s and as a
ratio to the one-thread bare kernel and to the bare kernel on as many threads as
``dp`` uses (``NUMBA_NUM_THREADS``; the fair ratio where other jobs share the cores).
``--repeat R`` keeps the fastest of R runs of each timing.

``read``: the same requests written as a JSON problem file and as Parquet; read
throughput (MB of file per second) of the JSON reader (to a ``Problem``) and of
the columnar reader (validated ragged arrays), and the ratio.

``make``: writes n distinct requests to a columnar file in batches (bounded memory).

``chunks``: checks a streamed solution (``splitopt solve BIG.parquet --out
SOL.parquet``) against solving the same requests in JSON chunks. Chunk k (rows
``[k c, (k + 1) c)``) is written as a JSON problem file and solved by the CLI's
own code path, ``splitopt solve CHUNK.json --solver dp --json OUT.json`` (its
``main``, in this process); every row of OUT.json is compared with the streamed
row (placement, status, server work, latency, client memory, feasible) and the
chunk's objective with Σ ω W over the streamed rows of the chunk. One JSON line
per chunk goes to ``--state`` (default ``SOL.parquet.chunks.jsonl``): running the
same command again skips the chunks already there (resumable; ``--limit K`` stops
after K new chunks). When every chunk is in the state file the totals are
printed: chunks compared, rows differing, the sum of the chunk objectives against
the file's objective, and both against an exactly rounded sum (``math.fsum``) of
the per-row terms ω W.
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


def _bare(b: ChainBatch, threads: int, repeat: int = 1) -> float:
    import numba

    from splitopt.solvers.batch import _args, grid_dp_batch, tick_batch

    t = tick_batch(b)
    old = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        w = tick_batch(ChainBatch.from_chains([b.chain(i) for i in range(min(len(b), 8))]))
        grid_dp_batch(*_args(w, w.use_memory))  # warm (compiled or loaded from the cache)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            grid_dp_batch(*_args(t, t.use_memory))
            times.append(time.perf_counter() - t0)
        return min(times)
    finally:
        numba.set_num_threads(old)


def binding(b: ChainBatch) -> int:
    """Chains whose latency-only grid optimum breaks the memory budget (so the grid DP
    also runs its memory table for them: the expensive case)."""
    from splitopt.solvers.batch import _args, grid_dp_batch, tick_batch

    t = tick_batch(b)
    best, x = grid_dp_batch(*_args(t, np.zeros(len(b), bool)))
    client_mem = np.add.reduceat(np.where(x == 0, t.memory, 0), t.offsets[:-1])
    return int((np.isfinite(best) & t.use_memory & (client_mem > t.budget)).sum())


def cmd_ratios(args: argparse.Namespace) -> None:
    import numba

    from splitopt.formats.columnar import write_problem_batches
    from splitopt.solvers import get_solver
    from splitopt.solvers.batch import warm_up_batch
    from splitopt.streaming import solve_file

    warm_up_batch()
    print(f"threads: {numba.get_num_threads()}")
    print(
        "| L | budgets | n | budget binds | bare 1 thread (req/s) | bare all threads "
        "| dp solve (in memory) | ratio | ratio, same threads | streamed columnar solve "
        "| ratio | ratio, same threads |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    sizes = [int(x) for x in args.n.split(",")]
    mem_sizes = [int(x) for x in args.n_memory.split(",")]
    for k, L in enumerate(int(x) for x in args.layers.split(",")):
        for memory in (False, True):
            n = (mem_sizes if memory else sizes)[k]
            if n == 0:
                continue
            ids, _, b = next(batches(n, L, memory, args.seed, rows=n))
            nb = binding(b)
            t1 = _bare(b, 1, args.repeat)
            tn = _bare(b, numba.get_num_threads(), args.repeat)
            problem = to_problem(ids, b, "bench")
            solver = get_solver("dp")
            warm = [f"w{i}" for i in range(64)]  # the batched path starts at 64 chains
            solver.solve(to_problem(warm, llm_batch(64, L, memory=memory, seed=1), "w"))
            ts = tc = np.inf
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                res = solver.solve(problem)
                ts = min(ts, time.perf_counter() - t0)
                with tempfile.TemporaryDirectory() as tmp:
                    f = os.path.join(tmp, "p.parquet")
                    write_problem_batches(f, iter([(ids, np.ones(len(ids)), b)]), "bench")
                    t0 = time.perf_counter()
                    head = solve_file(f, os.path.join(tmp, "s.parquet"), progress=False)
                    tc = min(tc, time.perf_counter() - t0)
                assert abs(head["objective"] - res.objective) <= 1e-9 * abs(res.objective)
            print(
                f"| {L} | {'yes' if memory else 'no'} | {n:,} | {nb:,} | {n / t1:,.0f} "
                f"| {n / tn:,.0f} | {n / ts:,.0f} | {ts / t1:.2f} | {ts / tn:.2f} "
                f"| {n / tc:,.0f} | {tc / t1:.2f} | {tc / tn:.2f} |",
                flush=True,
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


def _chunk(args: argparse.Namespace, reader, sol, k: int, work: str) -> dict:  # type: ignore[no-untyped-def]
    """Solve chunk k through the CLI's JSON path and compare it with the streamed rows."""
    import contextlib
    import io
    import json
    import math
    from collections import Counter
    from fractions import Fraction

    from splitopt.cli import main as cli_main
    from splitopt.formats.problem_file import write_problem

    c = args.chunk_rows
    a, b = k * c, min((k + 1) * c, reader.num_rows)
    t0 = time.perf_counter()
    rb = reader.rows(a, b)
    fj = os.path.join(work, f"chunk-{k:06d}.json")
    fo = os.path.join(work, f"chunk-{k:06d}.sol.json")
    write_problem(rb.to_problem(f"{reader.name}-chunk{k}", reader.work_unit), fj)
    t1 = time.perf_counter()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(["solve", fj, "--solver", "dp", "--json", fo])
    if code != 0:
        raise SystemExit(f"chunk {k}: splitopt solve exited {code}")
    t2 = time.perf_counter()
    with open(fo) as fh:
        doc = json.load(fh)
    os.remove(fj)
    os.remove(fo)
    streamed = sol.read(a, b).to_pydict()
    rows = doc["requests"]
    if [r["id"] for r in rows] != streamed["id"] or len(rows) != b - a:
        raise SystemExit(f"chunk {k}: the request ids differ")

    def num(v: object) -> float:
        return math.nan if v is None else float(v)  # type: ignore[arg-type]

    differ = []
    for i, r in enumerate(rows):
        same = (
            r["placement"] == streamed["placement"][i]
            and r["status"] == streamed["status"][i]
            and r["feasible"] == streamed["feasible"][i]
        )
        for col in ("server_work", "latency_s", "client_memory_bytes"):
            x, y = num(r[col]), num(streamed[col][i])
            same = same and (x == y or (math.isnan(x) and math.isnan(y)))
        if not same:
            differ.append(a + i)
    feas = np.array(streamed["feasible"], bool)
    w = np.array([num(v) for v in streamed["server_work"]])
    terms = rb.weights[feas] * w[feas]
    chunk_streamed = float(np.dot(rb.weights[feas], w[feas]))
    return {
        "chunk": k,
        "rows": b - a,
        "differing_rows": len(differ),
        "first_differing": differ[:5],
        "json_objective": doc["objective"],
        "streamed_objective": chunk_streamed,
        "objective_equal": doc["objective"] == chunk_streamed,
        # the chunk's Σ ω W exactly (ω W rounded once each; ω = 1 here, so exact)
        "exact_sum": str(sum((Fraction(t) for t in terms.tolist()), Fraction(0))),
        "statuses": dict(Counter(streamed["status"])),
        "write_s": t1 - t0,
        "solve_s": t2 - t1,
        "total_s": time.perf_counter() - t0,
    }


def cmd_chunks(args: argparse.Namespace) -> None:
    import json
    import math
    import shutil
    from fractions import Fraction

    import pyarrow.parquet as pq

    from splitopt.formats.columnar import (
        SOLUTION_COLUMNS,
        ColumnarProblem,
        RowRanges,
        read_solution_meta,
    )

    reader = ColumnarProblem(args.problem)
    head = read_solution_meta(args.solution)
    if head["requests"] != reader.num_rows:
        raise SystemExit("the solution and the problem have different row counts")
    sol = RowRanges(
        pq.ParquetFile(args.solution),
        list(SOLUTION_COLUMNS),
    )
    state = args.state or args.solution + ".chunks.jsonl"
    done: dict[int, dict] = {}
    if os.path.exists(state):
        with open(state) as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    done[rec["chunk"]] = rec
    count = -(-reader.num_rows // args.chunk_rows)
    todo = [k for k in range(count) if k not in done]
    print(
        f"{count} chunks of {args.chunk_rows:,} rows; {len(done)} already compared "
        f"({state}); {len(todo)} to go",
        flush=True,
    )
    work = tempfile.mkdtemp(prefix="chunks-", dir=args.workdir)
    try:
        for j, k in enumerate(todo[: args.limit] if args.limit else todo):
            rec = _chunk(args, reader, sol, k, work)
            with open(state, "a") as fh:
                fh.write(json.dumps(rec) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            done[k] = rec
            print(
                f"chunk {k} ({j + 1}/{len(todo)}): {rec['differing_rows']} differing rows; "
                f"objective JSON {rec['json_objective']!r} streamed "
                f"{rec['streamed_objective']!r} equal={rec['objective_equal']}; "
                f"write {rec['write_s']:.1f} s, solve {rec['solve_s']:.1f} s, "
                f"total {rec['total_s']:.1f} s",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    recs = [done[k] for k in sorted(done)]
    differing = sum(r["differing_rows"] for r in recs)
    unequal = [r["chunk"] for r in recs if not r["objective_equal"]]
    print(
        f"compared {len(recs)} of {count} chunks ({sum(r['rows'] for r in recs):,} rows): "
        f"{differing} rows differ; chunk objectives unequal in {len(unequal)} chunk(s) "
        f"{unequal[:10]}"
    )
    if len(recs) < count:
        print("not complete: run the same command again to continue")
        return
    total = 0.0
    for r in recs:  # in chunk order, as a reader adding up the chunk files would
        total += r["json_objective"]
    exact = float(sum((Fraction(r["exact_sum"]) for r in recs), Fraction(0)))
    f = head["objective"]
    print(f"sum of the {count} chunk objectives (in order): {total!r}")
    print(f"streamed file's objective:                 {f!r}")
    print(f"difference: {total - f!r} (relative {(total - f) / f:.3e}); bit-equal: {total == f}")
    print(
        f"exact sum (rounded once): {exact!r}; chunk sum - that: {total - exact!r}, "
        f"file - that: {f - exact!r} (ulp of the total: {math.ulp(f)!r})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("ratios")
    r.add_argument("--n", default="100000,10000,2000", help="requests per L (no budgets)")
    r.add_argument("--n-memory", default="2000,100,20", help="requests per L (budgets)")
    r.add_argument("--layers", default="8,34,80")
    r.add_argument("--repeat", type=int, default=1, help="minimum of this many runs per timing")
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
    ch = sub.add_parser("chunks")
    ch.add_argument("problem")
    ch.add_argument("solution")
    ch.add_argument("--chunk-rows", type=int, default=10_000)
    ch.add_argument("--state", default=None, help="default SOLUTION.chunks.jsonl")
    ch.add_argument("--workdir", default=None, help="where chunk files go (deleted after each)")
    ch.add_argument("--limit", type=int, default=0, help="stop after this many new chunks")
    args = ap.parse_args()
    {"ratios": cmd_ratios, "read": cmd_read, "make": cmd_make, "chunks": cmd_chunks}[args.cmd](args)


if __name__ == "__main__":
    main()
