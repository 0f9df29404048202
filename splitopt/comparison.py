"""The comparison table ``splitopt solve`` and ``splitopt evaluate`` print.

Two widths: the default table fits 100 columns (solver, status, served, server work,
reduction versus server-only and gain over greedy over all requests — unserved
requests charged their server-only work —, mean latency, runtime); ``wide=True``
adds the columns of the accounting (requests only this solver serves, charged work,
the figures over the requests both serve). The legend that
defines the columns is printed once per command, on request (:data:`LEGEND`,
``--explain``). Below the table, each solver's unserved requests are counted by
cause (:mod:`splitopt.infeasible`); ``per_request=True`` lists every request with the
reason it is unserved.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from splitopt.infeasible import reasons, summary_line
from splitopt.metrics import accounting, charged_reduction, server_only_figures, summarize
from splitopt.problem import Problem
from splitopt.solution import Result

#: Width the default table is made to fit (characters).
COMPACT_WIDTH = 100

LEGEND = (
    "served: requests whose placement meets the SLA and memory (re-scored by the "
    "evaluator). server work: Σω·W over served requests only. charged work (--wide): "
    "Σω·W over served requests + Σω·W(all on server) over unserved ones (the declared "
    "penalty, paper/PROTOCOL.md). reduction (versus server-only): 1 − charged / "
    "Σω·W(all on server) "
    "over every request (--wide adds the figure over the requests the solver and "
    "server-only both serve, with their count). vs greedy: (charged_greedy − charged) / "
    "charged_greedy (--wide adds (W_greedy − W) / W_greedy on the requests both serve). "
    "greedy is our reading of SplitLLM's undefined greedy (an assumption). Unserved "
    "requests are counted by cause: the SLA below the fastest placement's latency, the "
    "memory budget below the smallest client footprint of a placement meeting the SLA, "
    "or feasible but not found by that solver."
)


def _fmt(x: float, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def _pct(x: float) -> str:
    return "–" if x is None or math.isnan(x) else f"{100 * x:+.1f} %"


def console() -> Console:
    """A console for tables: the terminal's width, or 100 columns (200 with --wide is
    up to the caller) when the output is not a terminal."""
    c = Console()
    if not c.is_terminal:
        c.width = COMPACT_WIDTH
    return c


def print_comparison(
    out: Console,
    problem: Problem,
    results: Sequence[Result],
    greedy: Result,
    *,
    desc: str | None = None,
    per_request: bool = False,
    wide: bool = False,
) -> None:
    """Print the comparison of ``results`` (one problem) against ``greedy``."""
    if wide and not out.is_terminal:
        out.width = max(out.width, 200)
    unit = problem.work_unit
    if desc:
        out.print(f"[bold]Scenario:[/bold] {escape(desc)}")
    out.print(
        f"[bold]{escape(problem.name)}[/bold] — {len(problem)} requests "
        f"({len(problem.chains)} distinct), work in {unit}"
    )
    cols: list[tuple[str, str]] = [("solver", "left"), ("status", "left"), ("served", "right")]
    if wide:
        cols.append(("served, greedy not", "right"))
    cols.append((f"work [{unit}]", "right"))
    if wide:
        cols.append((f"charged [{unit}]", "right"))
    cols.append(("reduction", "right"))
    if wide:
        cols.append(("reduction: both (n)", "right"))
    cols.append(("vs greedy", "right"))
    if wide:
        cols.append(("vs greedy: both (n)", "right"))
    cols += [("latency [s]", "right"), ("time [s]", "right")]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name, just in cols:
        table.add_column(escape(name), justify=just, no_wrap=True)  # type: ignore[arg-type]
    so_ok = server_only_figures(problem)[1]
    why_all = {}
    for r in results:
        s = summarize(r)
        acc = accounting(r, greedy)
        both_so = r.evaluation.feasible & so_ok
        cells = [escape(r.solver), r.status, f"{s.feasible}/{s.requests}"]
        if wide:
            cells.append(str(acc.only_a))
        cells.append(_fmt(s.objective))
        if wide:
            cells.append(_fmt(acc.charged_a))
        cells.append(_pct(charged_reduction(r)))
        if wide:
            cells.append(
                f"{_pct(s.reduction_vs_server_only)} ({int(both_so.sum())})"
                if both_so.any()
                else "–"
            )
        cells.append(_pct(acc.charged_gain))
        if wide:
            cells.append(f"{_pct(acc.common_gain)} ({acc.common})" if acc.common else "–")
        cells += [_fmt(s.mean_latency_s), f"{r.runtime_s:.2g}"]
        table.add_row(*cells)
        why_all[r.solver] = reasons(r)
    out.print(table)
    for solver, why in why_all.items():
        if why:
            out.print(f"  {escape(solver)} unserved: {summary_line(why)}")
    if per_request:
        for r in results:
            why = why_all[r.solver]
            t = Table(title=f"{escape(r.solver)}: per request", box=box.SIMPLE_HEAD, pad_edge=False)
            for col in ("id", "status", "placement", "work", "latency [s]", "memory [B]"):
                t.add_column(escape(col), overflow="fold")
            t.add_column("why unserved", no_wrap=True)
            for rr in r:
                t.add_row(
                    escape(rr.id),
                    rr.status,
                    rr.placement or "–",
                    _fmt(rr.server_work),
                    _fmt(rr.latency_s),
                    _fmt(rr.client_memory_bytes),
                    escape(why[rr.id].short) if rr.id in why else "",
                )
            out.print(t)


def print_legend(
    out: Console, problem: Problem | None = None, greedy: Result | None = None
) -> None:
    """The definitions of the columns (once per command; ``--explain``)."""
    out.print(LEGEND)
    if problem is not None and greedy is not None:
        bad = summarize(greedy).server_only_infeasible
        out.print(f"(server-only breaks {bad} of {len(problem)} requests of {problem.name}.)")


__all__ = ["COMPACT_WIDTH", "LEGEND", "console", "print_comparison", "print_legend"]
