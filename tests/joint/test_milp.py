"""The joint MILP (placement + routes with client blocks, server memory binding):
every backend against brute force over joint answers, its certificate, the two
special cases (clients that run nothing; one server), the shipped joint instance and
``splitopt place -a joint-milp``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from splitopt.families.joint_tiny import tiny_joint, tiny_joint_cluster
from splitopt.joint.brute import brute_joint
from splitopt.joint.evaluate import score_answer
from splitopt.joint.exact import search
from splitopt.joint.milp import BACKENDS, JointMilp, backend_available
from splitopt.joint.model import CLIENT, JointCluster
from splitopt.placement.model import Placement

ROOT = Path(__file__).resolve().parents[2]
JOINT = ROOT / "instances" / "joint" / "tiny-joint.json"
AVAILABLE = [b for b in BACKENDS if backend_available(b)]


def _same(res, ref: float) -> bool:
    if math.isinf(ref):
        return res.status == "infeasible"
    return res.status == "optimal" and math.isclose(res.value, ref, rel_tol=1e-9)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_every_backend_matches_brute_force_on_time(backend: str) -> None:
    for seed in range(3):
        jc = tiny_joint_cluster(seed)
        ref, _, _ = brute_joint(jc)
        res = JointMilp(backend, certify=False).solve(jc)
        assert _same(res, ref), (seed, res, ref)
        if res.status == "optimal":  # the answer is the evaluator's, not the backend's
            assert score_answer(jc, res.placement, res.routes).time_s == res.value


def test_swarm_work_matches_brute_force() -> None:
    for seed in range(3):
        jc = tiny_joint_cluster(seed)
        _, pl, routes = brute_joint(jc)
        if pl is None:
            continue
        sla = [1.3 * sc.total_s for sc in score_answer(jc, pl, routes).routes]
        ref, _, _ = brute_joint(jc, "swarm-work", sla)
        res = JointMilp("highs").solve(jc, "swarm-work", sla)
        assert _same(res, ref), (seed, res, ref)
        assert all(sc.meets(s) for sc, s in zip(res.score.routes, sla, strict=True))


def test_server_memory_binds_and_the_client_relieves_it() -> None:
    """Some generated instance has a time optimum whose server memory is used up to
    the limit, so the instances exercise the memory rows."""
    tight = 0
    for seed in range(6):
        jc = tiny_joint_cluster(seed)
        res = JointMilp("highs").solve(jc)
        if res.status != "optimal":
            continue
        mem = np.array(res.score.memory_bytes)
        cap = jc.cluster.memory()
        tight += bool((mem > 0.5 * cap).any())
    assert tight > 0


def test_a_wrong_backend_claim_is_corrected_by_the_certificate(monkeypatch) -> None:
    import splitopt.joint.milp as milp
    from splitopt.solvers.milp_backends import BackendResult

    jc = tiny_joint_cluster(1)
    ref, _, _ = brute_joint(jc)
    assert math.isfinite(ref)
    monkeypatch.setattr(
        milp, "_RUNNERS", {b: (lambda *a: BackendResult("infeasible")) for b in BACKENDS}
    )
    res = JointMilp("highs").solve(jc)
    assert res.backend_status == "infeasible" and res.certificate == "improved"
    assert res.status == "optimal" and math.isclose(res.value, ref, rel_tol=1e-9)
    assert "off" in (res.message or "")
    raw = JointMilp("highs", certify=False).solve(jc)
    assert raw.status == "infeasible"  # the uncertified claim is the backend's


def test_without_a_proof_the_answer_is_only_feasible(monkeypatch) -> None:
    import splitopt.joint.exact as exact

    jc = tiny_joint_cluster(1)
    monkeypatch.setattr(exact, "MAX_PLACEMENTS", 1)
    res = JointMilp("highs").solve(jc)
    assert res.status == "feasible" and res.certificate == "stopped"
    assert "not certified" in (res.message or "")


def test_search_proves_the_brute_force_optimum() -> None:
    for seed in range(3):
        jc = tiny_joint_cluster(seed)
        ref, _, _ = brute_joint(jc)
        ex = search(jc, target=ref)
        assert ex.outcome == "proved"
        ex = search(jc)  # from nothing: ends at the optimum
        assert (
            (ex.outcome == "proved")
            if math.isinf(ref)
            else math.isclose(ex.value, ref, rel_tol=1e-9)
        )


def test_clients_that_run_nothing_give_the_many_server_optimum() -> None:
    from splitopt.placement import get_algorithm

    for seed in range(4):
        jc = tiny_joint_cluster(seed, device=False)
        ref = get_algorithm("bprr-brute").solve(jc.cluster)
        res = JointMilp("highs").solve(jc)
        if not ref.feasible:
            assert res.status == "infeasible"
            continue
        assert res.status == "optimal" and math.isclose(res.value, ref.objective, rel_tol=1e-9)
        assert all(s.device != CLIENT for r in res.routes for s in r)


def test_one_server_gives_the_split_dp_optimum() -> None:
    from splitopt.experiments.joint_verify import one_server_split_work
    from splitopt.families.joint_tiny import random_sla
    from splitopt.joint.route import time_table

    for seed in range(5):
        jc, _, job = tiny_joint(seed, max_blocks=6, max_servers=1)
        full = Placement(np.array([1]), np.array([jc.num_blocks]))
        sla = random_sla(np.random.default_rng(seed), np.asarray(time_table(jc, full, job)[0]))
        res = JointMilp("cpsat").solve(jc, "swarm-work", [sla])
        for _, st, work in one_server_split_work(jc, job, sla):
            assert (res.status == "infeasible") == (st == "infeasible")
            if st == "optimal":
                assert res.value == round(work)


def _shipped():
    from splitopt.formats.cluster_file import read_joint_cluster

    return read_joint_cluster(JOINT)


def test_shipped_instance_one_server_per_job_equals_split_dp() -> None:
    """tiny-joint.json: each job alone with one server hosting every block (placement
    fixed), swarm work under 1.5 x its client-runs-nothing time = the split dp."""
    import dataclasses

    from splitopt.experiments.joint_verify import one_server_split_work
    from splitopt.joint.route import best_route

    jc = _shipped()
    cl = jc.cluster
    L = cl.num_blocks
    for i, job in enumerate(cl.jobs):
        for j in (0, 2):  # an A100 and an L4
            sub = dataclasses.replace(
                cl,
                servers=(cl.servers[j],),
                rtt_s=cl.rtt_s[:, j : j + 1],
                prefill_rtt_s=cl.prefill_rtt_s[:, j : j + 1],
                prefill_rtt_per_token_s=cl.prefill_rtt_per_token_s[:, j : j + 1],
                network_rtt_s=cl.network_rtt_s[:, j : j + 1],
                server_rtt_s=None,
                jobs=(job,),
            )
            sj = JointCluster(sub, jc.devices)
            full = Placement(np.array([1]), np.array([L]))
            bare = best_route(JointCluster.without_devices(sub), full, job)
            sla = 1.5 * bare.score.total_s
            res = JointMilp("highs", certify=False).solve(sj, "swarm-work", [sla], placement=full)
            for _, st, work in one_server_split_work(sj, job, sla, ("dp-exact",)):
                assert st == "optimal" and res.status == "optimal", (i, j, st, res)
                assert res.value == round(work), (i, j)


def test_shipped_instance_clients_running_nothing_get_bprr_routes() -> None:
    """tiny-joint.json with every client running nothing, on CG-BPRR's placement
    (fixed): the joint MILP's least sum of T = BPRR's shortest routes summed (they fit
    the memory CG-BPRR reserved: the many-server evaluator accepts them)."""
    from splitopt.placement import evaluate as many_evaluate
    from splitopt.placement import get_algorithm
    from splitopt.placement.routing import dag_route

    jc = _shipped()
    cl = jc.cluster
    pl = get_algorithm("cg-bprr").solve(cl).placement
    bare = JointCluster.without_devices(cl)
    routes = []
    for job in cl.jobs:
        visit, block, _ = bare.costs(job)
        routes.append(dag_route(pl, cl.num_blocks, visit, block)[1])
    ref = many_evaluate(cl, pl, routes)
    assert ref.feasible
    res = JointMilp("highs", certify=False).solve(bare, placement=pl)
    assert res.status == "optimal"
    assert math.isclose(res.value, ref.objective, rel_tol=1e-9)
    # with the clients' devices the same placement gets no slower
    dev = JointMilp("highs", certify=False).solve(jc, placement=pl)
    assert dev.status == "optimal" and dev.value <= res.value * (1 + 1e-9)


def test_place_cli_runs_joint_milp(tmp_path, capsys) -> None:
    import json

    from splitopt.cli import main

    doc = json.loads(JOINT.read_text())
    doc["servers"] = [{"id": "a100", "device": "a100-80gb", "count": 1, "efficiency": 0.5}]
    doc["clients"] = ["thin", {"id": "gpu", "device": "rtx-4090"}]
    doc["network"] = {
        "kind": "matrix",
        "network_rtt_s": [[0.02], [0.05]],
        "overheads": {"preset": "paper"},
    }
    doc["workload"] = {
        "jobs": [
            {"client": "thin", "l_in": 20, "l_out": 16},
            {"client": "gpu", "l_in": 20, "l_out": 16},
        ]
    }
    f = tmp_path / "c.json"
    f.write_text(json.dumps(doc))
    out = tmp_path / "p.json"
    assert main(["place", str(f), "--algorithm", "joint-milp", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "== joint-milp:" in text and "joint MILP" in text
    meta = json.loads(out.read_text())["meta"]["joint"][0]
    assert meta is not None


def test_place_cli_replays_joint_milp(tmp_path, capsys) -> None:
    import json

    from splitopt.cli import main

    doc = json.loads(JOINT.read_text())
    doc["servers"] = [{"id": "a100", "device": "a100-80gb", "count": 1, "efficiency": 0.5}]
    doc["clients"] = ["thin", {"id": "gpu", "device": "rtx-4090"}]
    doc["network"] = {
        "kind": "matrix",
        "network_rtt_s": [[0.02], [0.05]],
        "overheads": {"preset": "paper"},
    }
    doc["workload"] = {"jobs": [{"client": "gpu", "l_in": 20, "l_out": 16}]}
    f = tmp_path / "c.json"
    f.write_text(json.dumps(doc))
    out = tmp_path / "p.json"
    assert main(["place", str(f), "--algorithm", "joint-milp", "--json", str(out)]) == 0
    capsys.readouterr()
    assert main(["place", str(f), "--replay", str(out)]) == 0
    assert "the same placement and routes" in capsys.readouterr().out
