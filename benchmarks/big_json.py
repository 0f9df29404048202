"""Big JSON benchmark: n distinct 8-layer requests, JSON in and JSON out through
``splitopt solve FILE --solver dp --json OUT``, against the bare kernel.

Usage::

    .venv/bin/python benchmarks/big_json.py [--n 100000] [--layers 8] [--seed 1]
        [--before SRC] [--md benchmarks/generated/big_json.md]

Measured in one run (same machine, same requests; our synthetic LLM-like data,
:func:`benchmarks.scale_distinct.llm_batch`, memory budgets on):

- ``kernel``: the bare compute of the default ``dp`` on the same chains, from the
  ragged arrays (no file, no objects per request): the batched label DP
  (:func:`splitopt.solvers.batch.solve_labels_batch`, with its budget check) alone,
  and with the memory label passes for the chains whose budget its latency-work
  optimum breaks (one more parallel call; the per-chain label DP only for chains
  those passes leave to the bounds): :func:`splitopt.solvers.dp.labels_ragged`,
  every answer ``dp`` gives. Warm, best of 3.
- ``read``: :func:`splitopt.formats.problem_file.read_problem` in this process
  (orjson + the ragged reader).
- ``whole``: the CLI command's wall time as a subprocess (Python start-up, imports,
  read, solve, evaluator, greedy reference and comparison table, the solution file),
  warm numba cache (an untimed run on 500 of the requests first).
- ``stages``: where the whole command's time goes: the steps of ``cmd_solve``
  timed one by one in a fresh process (imports; reading; numba's start-up and the
  loading of the cached kernels ``dp`` loads, which ``dp`` otherwise does first
  thing; solving with the evaluator's figures; the greedy reference of the
  comparison table; the solution text and file; the table), wall seconds, one run.
- ``--before SRC``: the same command with ``PYTHONPATH=SRC`` (a source tree of the
  code to compare with, e.g. ``git archive main | tar -x -C SRC``), same file.

- ``floor``: a fresh ``python -c`` that reads the file and parses it with orjson,
  nothing else: what any command that takes this JSON file must at least pay.

The ratio whole/kernel is the figure the target (<= 5x) is about; the floor's
ratio shows how much of it the file format alone takes.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/big_json.py`

from benchmarks.scale_distinct import llm_batch
from splitopt.ragged import ChainBatch, take

ROOT = Path(__file__).resolve().parents[1]


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


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


class Timer:
    """Wall and CPU seconds (user + system, every thread; ``children``: of finished
    subprocesses) of a block."""

    def __init__(self, children: bool = False) -> None:
        self.who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF

    def __enter__(self) -> Timer:
        self.w0, self.c0 = time.perf_counter(), _cpu(self.who)
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.w0
        self.cpu = _cpu(self.who) - self.c0


def kernel_s(b: ChainBatch, repeat: int = 3) -> tuple[Timer, Timer, int]:
    """The fastest (wall) of ``repeat`` runs of the batched label DP alone and of
    every answer of ``dp`` (batched, then the memory labels), warm; and how many
    chains the memory labels take."""
    from splitopt.solvers.batch import solve_labels_batch, warm_up_batch
    from splitopt.solvers.dp import RTOL, label_chain, labels_ragged

    warm_up_batch(grid=False)
    label_chain(b.chain(0))  # loads the per-chain kernels
    batch, full = [], []
    for _ in range(repeat):
        with Timer() as t:
            _, _, resolved = solve_labels_batch(b, RTOL)
        batch.append(t)
        with Timer() as t:
            labels_ragged(b)
        full.append(t)
    best = min(batch, key=lambda t: t.wall), min(full, key=lambda t: t.wall)
    return best[0], best[1], int((~resolved).sum())


def read_s(path: str) -> Timer:
    from splitopt.formats.problem_file import read_problem

    with Timer() as t:
        read_problem(path)
    return t


def whole_s(path: str, out: str, src: Path) -> Timer:
    env = dict(os.environ)
    env.pop("SPLITOPT_JSON", None)
    env["PYTHONPATH"] = str(src)
    cmd = [sys.executable, "-m", "splitopt", "solve", path, "--solver", "dp", "--json", out]
    with Timer(children=True) as t:
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, cwd=src)
    return t


def floor_s(path: str, repeat: int = 2) -> Timer:
    """The floor of any JSON-in command on the file: a fresh Python process that only
    reads it and parses it with orjson (no checks, no arrays, no solve, no output);
    the faster (wall) of ``repeat`` runs."""
    code = f"import orjson; orjson.loads(open({path!r}, 'rb').read())"
    runs = []
    for _ in range(repeat):
        with Timer(children=True) as t:
            subprocess.run([sys.executable, "-c", code], check=True)
        runs.append(t)
    return min(runs, key=lambda t: t.wall)


#: The steps of ``splitopt solve FILE --solver dp --json OUT`` (splitopt.cli.solve),
#: timed one by one in a fresh process; prints {step: wall seconds} as JSON.
_STAGES = r"""
import io, contextlib, json, sys, time
t0 = time.perf_counter()
marks = {}
def mark(name):
    global t0
    t = time.perf_counter(); marks[name] = t - t0; t0 = t
import splitopt.cli.solve as S
from splitopt.cli.parser import build_parser
from splitopt.formats.read import read_with_doc
from splitopt.outputs import write_text
from splitopt.solvers import get_solver
from splitopt.solvers.jit import allow_interpreted
args = build_parser().parse_args(["solve", sys.argv[1], "--solver", "dp", "--json", sys.argv[2]])
mark("imports")
problem, doc = read_with_doc(sys.argv[1])
del doc
mark("read (parse, checks, ragged arrays)")
from splitopt.solvers.batch import warm_up_batch
from splitopt.solvers.kernels import warm_up
warm_up(grid=False)  # what dp loads first: numba (import, start-up), its cached kernels
warm_up_batch(grid=False)
mark("numba start-up and the cached kernels dp loads")
with allow_interpreted():
    result = get_solver("dp").solve(problem)
mark("solve (dp, evaluator's figures, result)")
marks["(of which the solver's own runtime_s)"] = result.runtime_s
greedy = S._greedy_reference(problem, [result])
mark("greedy reference (comparison table)")
write_text(sys.argv[2], S._solution_text(result))
mark("solution text and file")
with contextlib.redirect_stdout(io.StringIO()):
    S._print_comparison(sys.argv[1], problem, [result], False, None, greedy, args)
mark("comparison table")
print(json.dumps(marks))
"""


def stages_s(path: str, out: str) -> dict[str, float]:
    """Wall seconds of each step of the command (:data:`_STAGES`), fresh process."""
    env = dict(os.environ)
    env.pop("SPLITOPT_JSON", None)
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", _STAGES, path, out],
        check=True,
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return dict(orjson.loads(proc.stdout.strip().splitlines()[-1]))


def _commit(src: Path) -> str:
    """The tree's commit (git), or the first line of ``SRC/.commit`` (an archive)."""
    if (src / ".commit").is_file():
        return (src / ".commit").read_text().split()[0]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=src, capture_output=True, text=True
        )
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--before", default=None, help="source tree of the code to compare with")
    ap.add_argument("--md", default=None, help="write the Markdown table here")
    a = ap.parse_args(argv)
    b = llm_batch(a.n, a.layers, memory=True, seed=a.seed)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "big.json")
        out = str(Path(tmp) / "out.json")
        data = problem_bytes(b, "big")
        Path(path).write_bytes(data)
        k_batch, k_full, per_chain = kernel_s(b)
        r = read_s(path)
        floor = floor_s(path)
        small = str(Path(tmp) / "small.json")  # untimed runs: numba's caches of each tree
        Path(small).write_bytes(problem_bytes(take(b, np.arange(min(a.n, 500))), "small"))
        trees = [ROOT] + ([] if a.before is None else [Path(a.before)])
        for src in trees:
            whole_s(small, out, src)
        w = min((whole_s(path, out, ROOT) for _ in range(2)), key=lambda t: t.wall)
        steps = stages_s(path, out)
        before = None if a.before is None else whole_s(path, out, Path(a.before))

    def ratio(t: Timer) -> str:
        return (
            f"{t.wall / k_full.wall:.1f}× / {t.wall / k_batch.wall:.1f}× | "
            f"{t.cpu / k_full.cpu:.1f}× / {t.cpu / k_batch.cpu:.1f}×"
        )

    rows: list[tuple[str, Timer, str]] = [
        ("kernel: batched label DP alone (warm, fastest of 3)", k_batch, " | "),
        (
            f"kernel: every answer of `dp` (batched, then the memory label passes for the "
            f"{per_chain:,} chains whose budget its optimum breaks; warm, fastest of 3)",
            k_full,
            " | ",
        ),
        ("read_problem (orjson, ragged reader)", r, " | "),
        (
            "floor: a fresh `python -c` that only parses the file with orjson (faster of 2)",
            floor,
            ratio(floor),
        ),
        (
            "whole `splitopt solve FILE --solver dp --json OUT` (this commit, faster of 2)",
            w,
            ratio(w),
        ),
    ]
    if before is not None:
        rows.append(
            (
                f"whole, the same command on the code of `--before` ({_commit(Path(a.before))})",
                before,
                ratio(before),
            )
        )
    lines = [
        f"# Big JSON: {a.n:,} distinct {a.layers}-layer requests (seed {a.seed}, "
        f"memory budgets), {len(data) / 1e6:.0f} MB of problem JSON",
        "",
        f"Generated by `python benchmarks/big_json.py --n {a.n} --layers {a.layers} "
        f"--seed {a.seed}{' --before SRC' if a.before else ''}` at commit {_commit(ROOT)} "
        f"(one run; {os.cpu_count()} cores, shared machine, load average {load:.1f} at "
        "the start). Wall: elapsed seconds; CPU: user + system seconds of every thread "
        "(the kernels run on all cores), the figure a loaded machine disturbs least. "
        "Ratios: whole ÷ every answer of `dp` / whole ÷ batched label DP alone.",
        "",
        "| what | wall [s] | CPU [s] | wall ratios | CPU ratios |",
        "|---|---:|---:|---:|---:|",
    ]
    for what, t, rat in rows:
        lines.append(f"| {what} | {t.wall:.3f} | {t.cpu:.3f} | {rat} |")
    lines += [
        "",
        "Where the whole command's time goes: its steps timed one by one in a fresh "
        "process (one run, wall seconds; the rest of the whole command is Python's "
        "start-up and exit).",
        "",
        "| step | wall [s] |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {v:.3f} |" for k, v in steps.items()]
    lines.append(f"| sum of the steps | {sum(v for k, v in steps.items() if k[0] != '('):.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.md:
        Path(a.md).parent.mkdir(parents=True, exist_ok=True)
        Path(a.md).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
