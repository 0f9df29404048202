"""The certificate of the many-server exact methods, and the MILP cases it fixed.

Each cluster below is small and written out by hand (copied from the wide-range
verification family where the backends' tolerances gave a false ``optimal``,
an ``error`` or an exception before the certificate existed).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitopt.placement.brute import BPRRBrute
from splitopt.placement.certify import certify
from splitopt.placement.milp import BPRRMilp
from splitopt.placement.model import BlockModel, Cluster, Job, Server
from splitopt.verify_placement import agree, false_optimum

BACKENDS = ("highs", "cbc", "cpsat", "scip")


def _skip_unavailable(backend: str) -> None:
    from splitopt.placement import available

    if not available(f"bprr-milp-{backend}"):
        pytest.skip(f"{backend} not installed")


def decoy_cluster() -> Cluster:
    """3 servers, 4 blocks, 2 jobs; server s2 is ~1e8 times slower than the others
    (wide-0-40: HiGHS and CBC both claimed ``optimal`` 0.005476 s; the optimum is
    0.005260 s)."""
    servers = (
        Server("s0", 8198.847197734169, 1e-06, 1e-06, 2.6226430828878284e-07, max_blocks=4),
        Server("s1", 16398.461495290776, 1e-06, 1e-06, 5.625137343225926e-08),
        Server("s2", 8201.863751290855, 327.66632882145785, 327.66632882145785, 3.2766632882145785),
    )
    rtt = [[1e-06, 1.3652422454552117e-05, 1257.7591229812383],
           [3.0387483544908265e-05, 0.0016977407898847144, 1391.9441469042051]]  # fmt: skip
    prefill = [[2e-06, 1.4652422454552117e-05, 9651.95139269763],
               [0.00015515776749142654, 0.0016987407898847143, 789804.9723213384]]  # fmt: skip
    per_tok = [[0.0, 1.2296960545779042e-05, 1e-08], [1e-08, 9.158063043847539e-07, 7.4e-06]]
    return Cluster(
        "decoy",
        BlockModel(4, 4098.735154292673, 0.0639304839864979),
        servers,
        ("c0", "c1"),
        np.array(rtt),
        np.array(prefill),
        np.array(per_tok),
        (Job(1, 5, 3), Job(0, 7, 3)),
    )


def one_block_decoy() -> Cluster:
    """1 block, 3 servers, 1 job, one very slow unused server: CBC claimed ``optimal``
    0.453 s (the optimum is 0.412 s)."""
    servers = (
        Server("fast", 10.0, 0.3, 0.1),
        Server("slower", 10.0, 0.35, 0.1),
        Server("decoy", 10.0, 3e8, 3e8),
    )
    rtt = np.array([[0.004, 0.001, 5e3]])
    return Cluster(
        "one", BlockModel(1, 1.0, 0.0), servers, ("c",), rtt, rtt * 2, None, (Job(0, 4, 2),)
    )


def overflow_cluster() -> Cluster:
    """Cache 1e306 B/token x 200 tokens overflows to inf: every backend raised or
    answered ``error``; brute force says infeasible."""
    servers = (Server("a", 1e308, 0.1, 0.1), Server("b", 1e308, 0.2, 0.1))
    return Cluster(
        "overflow",
        BlockModel(2, 1.0, 1e306),
        servers,
        ("c",),
        np.full((1, 2), 0.01),
        np.full((1, 2), 0.01),
        None,
        (Job(0, 100, 100), Job(0, 100, 100)),
    )


def memory_edge(eps: float, second: bool = True) -> Cluster:
    """Server a's memory is the load of both jobs on both blocks times 1 + eps
    (non-integral bytes): a few bytes short of (eps < 0) or above it. Before the
    certificate: eps = -1e-8 gave ``feasible`` (HiGHS, CBC, SCIP) where the answer is
    optimal, and eps = -3e-8 without server b gave ``error`` (HiGHS, SCIP) where it is
    infeasible."""
    s_m = 1.37e9 / 3
    cpt = s_m * 1e-3
    load = s_m * 2 + cpt * (20 + 10) * 2
    servers = [Server("a", load * (1 + eps), 0.01, 0.01)]
    if second:
        servers.append(Server("b", s_m * 2 + cpt * 20 * 2, 0.03, 0.01))
    S = len(servers)
    return Cluster(
        "edge",
        BlockModel(2, s_m, cpt),
        tuple(servers),
        ("c",),
        np.full((1, S), 0.01),
        np.full((1, S), 0.01),
        None,
        (Job(0, 10, 10), Job(0, 5, 5)),
    )


CASES = {
    "decoy": decoy_cluster,
    "one-block-decoy": one_block_decoy,
    "overflow": overflow_cluster,
    "memory-short": lambda: memory_edge(-1e-8),
    "memory-above": lambda: memory_edge(1e-8),
    "memory-short-alone": lambda: memory_edge(-3e-8, second=False),
    "memory-above-alone": lambda: memory_edge(3e-8, second=False),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_milp_never_claims_a_false_optimum(name: str, backend: str) -> None:
    _skip_unavailable(backend)
    cluster = CASES[name]()
    ref = BPRRBrute().solve(cluster)
    res = BPRRMilp(backend=backend).solve(cluster)
    assert not false_optimum(ref, res), (res.status, res.objective, ref.objective, res.message)
    # these are tiny: the certificate completes, so the answer is exact
    assert res.status == ref.status and agree(ref, res), (res.status, res.message)


def test_memory_edge_cases_cover_both_verdicts() -> None:
    """The edge cases really sit on both sides of the evaluator's 1e-9 rule."""
    assert BPRRBrute().solve(memory_edge(-3e-8, second=False)).status == "infeasible"
    assert BPRRBrute().solve(memory_edge(3e-8, second=False)).status == "optimal"


def test_certificate_refutes_a_high_claim_and_finds_the_optimum() -> None:
    cluster = decoy_cluster()
    ref = BPRRBrute().solve(cluster)
    cert = certify(cluster, 0.005475992348084446)  # what HiGHS claimed
    assert cert.outcome == "improved"
    assert cert.objective == pytest.approx(ref.objective, rel=1e-9)
    assert certify(cluster, ref.objective).outcome == "proved"


def test_certificate_decides_feasibility() -> None:
    assert certify(overflow_cluster(), math.inf).outcome == "proved"  # infeasible
    cert = certify(decoy_cluster(), math.inf)
    assert cert.outcome == "improved" and cert.placement is not None


def test_certificate_stops_at_its_node_cap() -> None:
    cert = certify(decoy_cluster(), math.inf, max_nodes=2)
    assert cert.outcome == "stopped" and "node cap" in cert.reason


def test_unproven_claim_is_not_optimal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A certificate that cannot finish downgrades the backend's claim to ``feasible``."""
    import splitopt.placement.milp as milp

    monkeypatch.setattr(
        milp, "certify", lambda cluster, claim, deadline: certify(cluster, claim, max_nodes=1)
    )
    res = BPRRMilp().solve(decoy_cluster())
    assert res.status == "feasible" and "not certified" in (res.message or "")


def test_upper_bound_drops_the_decoy_arcs_only() -> None:
    """With an answer's Σ T_r as the bound, no arc leads to the decoy (its one-block hop
    alone is slower), the other servers keep theirs, and the optimum is unchanged."""
    from splitopt.placement.milp import build_model

    cluster = decoy_cluster()
    ref = BPRRBrute().solve(cluster)
    full = build_model(cluster)
    cut = build_model(cluster, upper_bound=ref.objective)
    heads = {h for arcs in cut.arcs for _, h, _ in arcs}
    assert 2 in {h for arcs in full.arcs for _, h, _ in arcs} and 2 not in heads
    assert {0, 1} <= heads and cut.num_vars < full.num_vars
    assert BPRRMilp().solve(cluster).objective == pytest.approx(ref.objective, rel=1e-9)
