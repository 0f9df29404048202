"""Where the time of a one-file ``splitopt solve`` goes (a benchmark, not a test).
Writes ``benchmarks/generated/startup.md`` (Markdown).

Usage::

    .venv/bin/python benchmarks/startup.py [--runs 5] [--out benchmarks/generated/startup.md]

Each line is the median wall time (and CPU time, user + system, of the process)
of ``--runs`` fresh processes, after one untimed run that fills the caches
(numba's kernels, the OS's file cache, Python's bytecode: the children run
without ``PYTHONDONTWRITEBYTECODE``, as an installed package does). "solver time"
is ``runtime_s`` of the solution the whole command printed (the solve alone: no
imports, no kernel loading, no reading or writing). The ratios divide medians
measured in the same run; on a busy machine the wall times grow with the load
(reported at start and end), the CPU times much less.

Rows for ``dp``: the default (the demo is small, so its label kernels run as plain
Python: :func:`splitopt.solvers.dp.interpret_first`), the same command with the
compiled kernels forced (the rule switched off), and a problem inside the rule
that the plain form cannot finish within its budget (it pays the budget, then
the compiled kernels).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

DEMO = "instances/demo/scenario.json"


def _cli(path: str, solver: str, compiled: bool = False) -> list[str]:
    args = ["solve", path, "--solver", solver, "--json", "-"]
    if not compiled:
        return ["-m", "splitopt", *args]
    return [
        "-c",
        "import sys; import splitopt.solvers.dp as d; d.INTERPRETED_MAX_LAYERS = 0; "
        f"from splitopt.cli import main; sys.exit(main({args!r}))",
    ]


def _hard_problem(path: str) -> None:
    """One random 60-layer chain with a memory budget whose label fronts are large
    (90,607 labels: about 40 s as plain Python, far over the budget)."""
    import numpy as np

    from splitopt.families.random_chain import random_chain
    from splitopt.formats import write_problem
    from splitopt.problem import Problem, Request

    rng = np.random.default_rng(1)
    random_chain(rng, 30, memory=True)  # the probe's first draw
    chain = random_chain(rng, 60, memory=True)
    write_problem(Problem("hard-60", (Request("r0", chain),)), path)


def _steps(hard: str) -> list[tuple[str, list[str]]]:
    return [
        ("`python -c pass`", ["-c", "pass"]),
        ("`python -c 'import numpy'`", ["-c", "import numpy"]),
        ("`python -c 'import numba'`", ["-c", "import numba"]),
        ("`python -c 'import splitopt'` (no numba)", ["-c", "import splitopt"]),
        (
            "import the DP and load its compiled label kernels (numba cache)",
            ["-c", "from splitopt.solvers import get_solver; get_solver('dp').prepare()"],
        ),
        (f"`splitopt solve {DEMO} --solver greedy --json -` (no numba)", _cli(DEMO, "greedy")),
        (
            f"`splitopt solve {DEMO} --solver dp --json -` (label kernels as plain Python)",
            _cli(DEMO, "dp"),
        ),
        (
            "the same with the compiled kernels forced (`INTERPRETED_MAX_LAYERS = 0`)",
            _cli(DEMO, "dp", compiled=True),
        ),
        (
            "`splitopt solve HARD --solver dp --json -`: 60 layers, 90,607 labels "
            "(plain Python for its 0.25 s budget, then compiled)",
            _cli(hard, "dp"),
        ),
        (
            "the same with the compiled kernels forced",
            _cli(hard, "dp", compiled=True),
        ),
    ]


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True, env=env)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu, p.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default="benchmarks/generated/startup.md")
    a = ap.parse_args(argv)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.getcwd() + os.pathsep + env.get("PYTHONPATH", "")
    tmp = tempfile.mkdtemp(prefix="splitopt-startup-")
    hard = os.path.join(tmp, "hard.json")
    _hard_problem(hard)
    load0 = os.getloadavg()[0]
    rows = []
    solver_ms: dict[str, float] = {}
    for label, args in _steps(hard):
        _run(args, env)  # warm caches (numba, OS, bytecode)
        walls, cpus, rts = [], [], []
        for _ in range(a.runs):
            w, c, out = _run(args, env)
            walls.append(w)
            cpus.append(c)
            if "--json" in " ".join(args):
                rts.append(json.loads(out)["runtime_s"])
        if rts:
            solver_ms[label] = statistics.median(rts) * 1e3
        rows.append((label, walls, cpus))
        print(label, f"{statistics.median(walls):.3f} s", flush=True)
    load1 = os.getloadavg()[0]
    med = {label: statistics.median(w) for label, w, _ in rows}
    cmed = {label: statistics.median(c) for label, _, c in rows}
    base = rows[0][0]
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        f.write("<!-- generated by benchmarks/startup.py; do not edit by hand -->\n")
        f.write(
            f"<!-- commit {commit}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"{os.cpu_count()} cores, load average {load0:.1f} at start, "
            f"{load1:.1f} at end -->\n\n"
        )
        f.write(
            f"Fresh processes, median (min–max) of {a.runs}, caches warm; CPU = user + "
            f"system time of the process; × pass = wall time ÷ that of `python -c pass` "
            f"in the same run. Load average {load0:.1f} at start, {load1:.1f} at end "
            f"({os.cpu_count()} cores): on a busy machine wall times grow, CPU times "
            "much less.\n\n"
        )
        f.write("| what | wall s | min–max s | CPU s | × pass |\n|---|---:|---|---:|---:|\n")
        for label, walls, _ in rows:
            f.write(
                f"| {label} | {med[label]:.3f} | {min(walls):.3f}–{max(walls):.3f} | "
                f"{cmed[label]:.3f} | {med[label] / med[base]:.1f} |\n"
            )
        f.write("\n")
        for label, ms in solver_ms.items():
            f.write(f"- solver time (`runtime_s`) in {label}: {ms:.1f} ms (median)\n")
        greedy, dp, forced = rows[5][0], rows[6][0], rows[7][0]
        f.write(
            f"- whole `dp` command ÷ whole `greedy` command: {med[dp] / med[greedy]:.2f} "
            f"(wall), {cmed[dp] / cmed[greedy]:.2f} (CPU); compiled kernels forced ÷ "
            f"default: {med[forced] / med[dp]:.1f} (wall), {cmed[forced] / cmed[dp]:.1f} "
            "(CPU)\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
