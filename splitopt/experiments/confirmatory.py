"""The confirmatory SplitLLM study (``paper/PROTOCOL.md``, "Confirmatory
registration"): setting P on fresh seeds under both cost models, every
baseline, and 95 % confidence intervals from a two-level (cluster) bootstrap
over seeds and, within each seed, request classes.

One task per (seed, cost model) (:func:`run_confirmatory`, registered in the
catalogue as ``confirmatory``) stores, per request class of that instance (a
distinct chain: the requests of one class share model, client, network, prompt
and output tokens and SLA), the class's total weight and each solver's charged
server work (work units: FLOP under setting P). Everything else, the point
estimates and the intervals, is computed from those rows here, so that the
tables can be rebuilt from the CSV alone:

    python -m splitopt.experiments.confirmatory              # run (resumable) + tables
    python -m splitopt.experiments.confirmatory --no-run     # tables from the CSV
    python -m splitopt.experiments.confirmatory --pilot      # the pre-registration pilot
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from splitopt.experiments.harness import Scalar

#: Solvers whose charged work each class row holds: the protocol's DP, the
#: reference (server-only) and every baseline; ``all-client`` is the placement
#: with every layer on the client (not a registered solver: scored here by the
#: one evaluator, charged its server-only work where it misses the SLA).
SOLVERS: tuple[str, ...] = (
    "dp",
    "server-only",
    "greedy",
    "greedy-skip",
    "greedy-backward",
    "greedy-ratio",
    "best-cut",
    "all-client",
)
#: The baselines the DP's gain is reported over (everything but the DP and the reference).
BASELINES: tuple[str, ...] = tuple(s for s in SOLVERS if s not in ("dp", "server-only"))

# ---- the registration (paper/PROTOCOL.md, "Confirmatory registration"); change only
# ---- with an entry in its deviation log
#: First registered seed; seeds FIRST_SEED .. FIRST_SEED + REGISTERED_SEEDS - 1.
FIRST_SEED = 1000
#: Number of registered seeds (from the pilot on the previously run seeds 0-19).
REGISTERED_SEEDS = 600
#: Instance size of the registered run.
SIZE = "medium"
#: Bootstrap replicates and the bootstrap's own seed.
BOOTSTRAP_REPLICATES = 5_000
BOOTSTRAP_SEED = 20261206
#: Seeds run before the registration (pilot only; never confirmatory).
PILOT_SEEDS: tuple[int, ...] = tuple(range(20))


def registered_seeds() -> list[int]:
    """The seeds of the confirmatory registration."""
    return list(range(FIRST_SEED, FIRST_SEED + REGISTERED_SEEDS))


# ---------------------------------------------------------------- per-class data


def class_table(seed: int, size: str, cost_model: str) -> dict[str, list]:
    """Per request class of the setting-P instance (``paper-like``, ``seed``,
    ``size``, ``cost_model``): ``family``, ``requests``, ``weight`` and, per
    solver of :data:`SOLVERS`, ``c_<solver>`` (Σω·charged work of the class,
    work units) and ``s_<solver>`` (requests of the class it serves)."""
    from splitopt.evaluate import feasible_mask, score_batch
    from splitopt.experiments.instances import setting_instance
    from splitopt.experiments.outcomes import solved
    from splitopt.metrics import server_only_figures

    p = setting_instance("paper-like", seed, size, cost_model=cost_model)
    so_work, _ = server_only_figures(p)
    idx = np.asarray(p.chain_index)
    k = len(p.chains)
    w = np.asarray(p.weights, dtype=float)
    out: dict[str, list] = {
        "family": [""] * k,
        "requests": np.bincount(idx, minlength=k).tolist(),
        "weight": np.bincount(idx, weights=w, minlength=k).tolist(),
    }
    for r, j in zip(p.requests, idx, strict=True):
        out["family"][j] = str((r.meta or {}).get("model_family", ""))
    for s in SOLVERS:
        if s == "all-client":
            ok_c = np.empty(k, dtype=bool)
            work_c = np.empty(k)
            for j, c in enumerate(p.chains):
                lat, wk, mem = score_batch(c, np.zeros((1, c.num_layers), dtype=bool))
                ok_c[j] = feasible_mask(c, lat, mem)[0]
                work_c[j] = wk[0]
            feas, work = ok_c[idx], work_c[idx]
        else:
            ev = solved(p, s).evaluation
            feas, work = np.asarray(ev.feasible), np.asarray(ev.server_work)
        charged = w * np.where(feas, work, so_work)
        out[f"c_{s}"] = np.bincount(idx, weights=charged, minlength=k).tolist()
        out[f"s_{s}"] = (
            np.bincount(idx, weights=feas.astype(float), minlength=k).astype(int).tolist()
        )
    return out


def run_confirmatory(seed: int, size: str, cost_model: str, **_: Scalar) -> dict[str, Scalar]:
    """The runner of the ``confirmatory`` experiment: one (seed, cost model), its
    totals per solver (``charged_<solver>``, ``served_<solver>``) and the per-class
    table of :func:`class_table` as JSON (column ``classes``)."""
    from splitopt.experiments.outcomes import col
    from splitopt.scenario.cost_models import figures_id

    t = class_table(seed, size, cost_model)
    row: dict[str, Scalar] = {
        "cost_figures": figures_id(cost_model),
        "requests": int(sum(t["requests"])),
        "classes_n": len(t["weight"]),
    }
    for s in SOLVERS:
        row[f"charged_{col(s)}"] = math.fsum(t[f"c_{s}"])
        row[f"served_{col(s)}"] = int(sum(t[f"s_{s}"]))
    row["classes"] = json.dumps(t, separators=(",", ":"))
    return row


# ---------------------------------------------------------------- estimates and intervals


@dataclass(frozen=True)
class SeedData:
    """The per-class charged works of one cost model, seed by seed.

    ``charged[s]`` is a list (one entry per seed) of arrays (one entry per class)."""

    seeds: tuple[int, ...]
    families: list[np.ndarray]
    charged: dict[str, list[np.ndarray]]
    served: dict[str, list[np.ndarray]]
    requests: list[np.ndarray]


def seed_data(rows: Iterable[Mapping[str, str]], cost_model: str, family: str = "") -> SeedData:
    """The rows of ``cost_model`` (one per seed, sorted by seed), restricted to the
    classes of ``family`` when given."""
    picked = sorted(
        (r for r in rows if r.get("cost_model") == cost_model and not r.get("error")),
        key=lambda r: int(r["seed"]),
    )
    seeds, fams, req = [], [], []
    charged: dict[str, list[np.ndarray]] = {s: [] for s in SOLVERS}
    served: dict[str, list[np.ndarray]] = {s: [] for s in SOLVERS}
    for r in picked:
        t = json.loads(r["classes"])
        f = np.asarray(t["family"])
        keep = f == family if family else np.ones(len(f), dtype=bool)
        seeds.append(int(r["seed"]))
        fams.append(f[keep])
        req.append(np.asarray(t["requests"])[keep])
        for s in SOLVERS:
            charged[s].append(np.asarray(t[f"c_{s}"], dtype=float)[keep])
            served[s].append(np.asarray(t[f"s_{s}"])[keep])
    return SeedData(tuple(seeds), fams, charged, served, req)


def quantities(data: SeedData, i: int) -> np.ndarray:
    """The per-class quantities whose sums the figures are ratios of, for seed
    index ``i``: rows in the order of :func:`quantity_names`, one column per class.
    Within a class every request is the same chain, so a solver serves all of
    its requests or none; "both feasible" sums run over the classes both serve."""
    c = data.charged
    served = {s: data.served[s][i] == data.requests[i] for s in SOLVERS}
    rows = [c[s][i] for s in SOLVERS]
    both_so = served["dp"] & served["server-only"]
    rows += [c["dp"][i] * both_so, c["server-only"][i] * both_so]
    for b in BASELINES:
        both = served["dp"] & served[b]
        rows += [c["dp"][i] * both, c[b][i] * both]
    return np.stack(rows) if rows[0].size else np.zeros((len(rows), 0))


def quantity_names() -> list[str]:
    """Names of the rows of :func:`quantities`."""
    names = [f"c_{s}" for s in SOLVERS] + ["bf_so_dp", "bf_so_so"]
    for b in BASELINES:
        names += [f"bf_{b}_dp", f"bf_{b}_base"]
    return names


def figures(sums: Mapping[str, np.ndarray | float]) -> dict[str, np.ndarray | float]:
    """The figures (percent) from pooled sums of :func:`quantities` (sums first,
    then ratios). All requests, unserved ones charged their server-only work:
    ``reduction`` = 1 − C_dp / C_server-only, ``gain_<B>`` = (C_B − C_dp) / C_B.
    Over the classes both serve: ``bf_reduction``, ``bf_gain_<B>``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"reduction": 100.0 * (1.0 - sums["c_dp"] / sums["c_server-only"])}
        for b in BASELINES:
            out[f"gain_{b}"] = 100.0 * (sums[f"c_{b}"] - sums["c_dp"]) / sums[f"c_{b}"]
        out["bf_reduction"] = 100.0 * (1.0 - sums["bf_so_dp"] / sums["bf_so_so"])
        for b in BASELINES:
            base = sums[f"bf_{b}_base"]
            out[f"bf_gain_{b}"] = 100.0 * (base - sums[f"bf_{b}_dp"]) / base
    return out


def point(data: SeedData) -> dict[str, float]:
    """The figures pooled over every seed and class."""
    names = quantity_names()
    q = np.concatenate([quantities(data, i) for i in range(len(data.seeds))], axis=1)
    return {
        k: float(v)
        for k, v in figures({n: np.float64(math.fsum(q[j])) for j, n in enumerate(names)}).items()
    }


def bootstrap(
    data: SeedData, replicates: int = BOOTSTRAP_REPLICATES, seed: int = BOOTSTRAP_SEED
) -> dict[str, np.ndarray]:
    """Two-level (cluster) bootstrap of :func:`figures`: each replicate draws
    n seeds with replacement from the n seeds, then, independently for each
    drawn seed, that seed's m classes with replacement from its m classes; the
    quantities of the drawn classes are summed and the figures formed from the
    sums. Returns one array of ``replicates`` values per figure."""
    rng = np.random.default_rng(seed)
    n = len(data.seeds)
    names = quantity_names()
    q = [quantities(data, i) for i in range(n)]
    m = np.array([x.shape[1] for x in q])
    mmax = int(m.max()) if n else 0
    pad = np.zeros((n, len(names), mmax + 1))  # column mmax stays 0: the padding slot
    for i, x in enumerate(q):
        pad[i, :, : x.shape[1]] = x
    sums = np.empty((replicates, len(names)))
    chunk = max(1, 2_000_000 // max(1, n * max(mmax, 1)))
    cols = np.arange(mmax)
    for b0 in range(0, replicates, chunk):
        k = min(chunk, replicates - b0)
        si = rng.integers(0, n, size=(k, n))  # drawn seeds
        mi = m[si]  # their class counts
        ci = np.floor(rng.random((k, n, mmax)) * mi[..., None]).astype(np.intp)
        ci = np.where(cols < mi[..., None], ci, mmax)  # beyond a seed's m: the zero slot
        # gather: pad[si, :, ci] -> (k, n, mmax, Q)
        g = pad[si[..., None], :, ci]
        sums[b0 : b0 + k] = g.sum(axis=(1, 2))
    return {
        k: np.asarray(v) for k, v in figures({nm: sums[:, j] for j, nm in enumerate(names)}).items()
    }


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of bootstrap ``values``."""
    a = (1.0 - level) / 2.0
    v = values[np.isfinite(values)]
    return float(np.quantile(v, a)), float(np.quantile(v, 1.0 - a))


def pilot(rows: Sequence[Mapping[str, str]], models: Sequence[str], target: float = 2.0) -> str:
    """The pre-registration calculation: on the pilot seeds, each figure's
    bootstrap half-width (the larger distance from the point estimate to an end
    of the 95 % interval) and the seeds n it needs for ``target`` points, by
    the 1/sqrt(n) scaling of a cluster bootstrap: n = n_pilot (h / target)^2."""
    lines = [
        "| cost model | figure | pilot estimate | pilot 95 % CI | half-width | seeds for ±2 |",
        "|---|---|---|---|---|---|",
    ]
    for m in models:
        d = seed_data(rows, m)
        n = len(d.seeds)
        est, boot = point(d), bootstrap(d, replicates=2000)
        for k, v in est.items():
            if k.startswith("bf_"):
                continue
            lo, hi = interval(boot[k])
            h = max(v - lo, hi - v)
            need = math.ceil(n * (h / target) ** 2)
            lines.append(f"| {m} | {k} | {v:.1f} | {lo:.1f} – {hi:.1f} | {h:.2f} | {need} |")
    return "\n".join(lines)
