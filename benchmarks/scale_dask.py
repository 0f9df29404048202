"""``solve --dask`` on a local Dask cluster with 1 and 2 worker processes (issue 14).

Usage::

    .venv/bin/python benchmarks/scale_dask.py [--n 20000] [--layers 34] [--rows 2000]

Writes n distinct requests (``scale_distinct.llm_batch``) to a Parquet file,
solves it locally (this process, numba threads as configured) and on a
``LocalCluster`` of 1 and 2 single-threaded worker processes, checks that the
solution tables are identical, and prints the wall times (kernels compiled or
loaded from the cache on every worker before the clock starts).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(__file__))

from scale_distinct import batches

from splitopt.formats.columnar import write_problem_batches
from splitopt.solvers.batch import warm_up_batch
from splitopt.streaming import solve_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--layers", type=int, default=34)
    ap.add_argument("--rows", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    warm_up_batch()
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "p.parquet")
        write_problem_batches(f, batches(args.n, args.layers, False, args.seed), "dask-bench")
        local = os.path.join(tmp, "local.parquet")
        t0 = time.perf_counter()
        solve_file(f, local, rows=args.rows, progress=False)
        tl = time.perf_counter() - t0
        print(f"n={args.n:,} L={args.layers} rows/part={args.rows}: local {tl:.1f} s")
        ref = pq.read_table(local)
        for workers in (1, 2):
            with (
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    env={"NUMBA_NUM_THREADS": "1"},
                ) as cluster,
                Client(cluster) as client,
            ):
                client.run(warm_up_batch)
                out = os.path.join(tmp, f"dask{workers}.parquet")
                t0 = time.perf_counter()
                solve_file(f, out, rows=args.rows, progress=False, dask=client)
                td = time.perf_counter() - t0
                same = pq.read_table(out).equals(ref)
                print(
                    f"dask {workers} worker(s): {td:.1f} s ({args.n / td:,.0f} req/s), "
                    f"identical to local: {same}"
                )


if __name__ == "__main__":
    main()
