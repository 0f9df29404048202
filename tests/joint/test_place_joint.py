"""``splitopt place`` with client devices: joint routes after the placement; without
client devices the output is what it was (the placement report and file only)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from splitopt.cli import main
from splitopt.formats.cluster_file import read_cluster, read_joint_cluster
from splitopt.formats.placement_file import placements_to_dict, read_placements
from splitopt.joint import CLIENT, best_route, score_route
from splitopt.joint.place import route_jobs
from splitopt.placement import get_algorithm
from splitopt.placement.report import render

ROOT = Path(__file__).resolve().parents[2]
JOINT = ROOT / "instances" / "joint" / "tiny-joint.json"
TINY = ROOT / "instances" / "clusters" / "tiny.json"

MS = re.compile(r"\(\d+(\.\d+)? ms\)")


def _mask(doc):
    if isinstance(doc, dict):
        return {k: (0 if k == "runtime_s" else _mask(v)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_mask(v) for v in doc]
    return doc


def test_without_client_devices_the_output_is_the_placement_only(tmp_path, capsys) -> None:
    target = tmp_path / "p.json"
    assert main(["place", str(TINY), "--json", str(target)]) == 0
    out = capsys.readouterr().out
    cluster = read_cluster(TINY)
    res = get_algorithm("cg-bprr").solve(cluster)
    assert MS.sub("", out) == MS.sub("", render(cluster, res) + "\n")
    assert "joint" not in out
    doc = json.loads(target.read_text())
    assert "meta" not in doc
    assert _mask(doc) == _mask(json.loads(json.dumps(placements_to_dict(cluster, [res]))))


def test_joint_flags_need_client_devices(capsys) -> None:
    for flags in (["--joint-objective", "time"], ["--sla", "3"], ["--sla-factor", "2"]):
        assert main(["place", str(TINY), *flags]) == 2
        err = capsys.readouterr().err
        assert "name devices" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "flags", [[], ["--joint-objective", "swarm-work"], ["--sla-factor", "1.5"], ["--sla", "30"]]
)
def test_place_prints_and_writes_the_joint_routes(tmp_path, capsys, flags) -> None:
    target = tmp_path / "p.json"
    assert main(["place", str(JOINT), *flags, "--json", str(target)]) == 0
    out = capsys.readouterr().out
    assert "joint routes (" in out and "5 of 5 jobs routed" in out
    doc = json.loads(target.read_text())
    read_placements(target, read_cluster(JOINT))  # still a valid placement file
    (joint,) = doc["meta"]["joint"]
    objective = "time" if not flags else "swarm-work"
    assert joint["objective"] == objective
    jc = read_joint_cluster(JOINT)
    ((_, placement, _),) = read_placements(target, jc.cluster)
    for job, row in zip(jc.cluster.jobs, joint["jobs"], strict=True):
        assert row["status"] == "optimal"
        # the file's route is re-scored by the evaluator and matches its figures
        from splitopt.joint import Segment

        ids = {s.id: j for j, s in enumerate(jc.cluster.servers)}
        route = tuple(
            Segment(CLIENT if s["device"] == "client" else ids[s["device"]], s["first"], s["last"])
            for s in row["segments"]
        )
        sc = score_route(jc, placement, job, route)
        assert sc.feasible and sc.total_s == pytest.approx(row["total_s"], rel=1e-12)
        if objective == "swarm-work":
            assert sc.total_s <= row["sla_s"] * (1 + 1e-9)
        base = best_route(jc.without_devices(jc.cluster), placement, job)
        assert row["baseline_total_s"] == pytest.approx(base.score.total_s, rel=1e-12)
        # time: never slower than the client-runs-nothing route; swarm-work: never more swarm
        if objective == "time":
            assert sc.total_s <= base.score.total_s * (1 + 1e-9)
        else:
            assert sc.swarm_blocks <= base.score.swarm_blocks
    assert joint["swarm_blocks"] == sum(r["swarm_blocks"] for r in joint["jobs"])


def test_a_capable_client_saves_swarm_work_within_its_sla() -> None:
    jc = read_joint_cluster(JOINT)
    res = get_algorithm("cg-bprr").solve(jc.cluster)
    r = route_jobs(jc, res.placement, "swarm-work", sla_factor=1.5)
    assert r.errors == 0 and r.served == len(jc.cluster.jobs)
    assert r.swarm_blocks < r.baseline_swarm_blocks  # the GPU clients take blocks
    assert r.answers[0].score.client_blocks == 0  # 'thin' names no device
    t = route_jobs(jc, res.placement, "time")
    joint, bare = t.mean_per_token_s()
    assert joint <= bare * (1 + 1e-12)


@pytest.mark.parametrize(
    "kw", [{"sla_s": 1.0, "sla_factor": 1.0}, {"sla_s": 1.0}, {"sla_factor": -1.0}]
)
def test_route_jobs_refuses_bad_slas(kw) -> None:
    from splitopt.errors import UsageError

    jc = read_joint_cluster(JOINT)
    res = get_algorithm("cg-bprr").solve(jc.cluster)
    objective = "time" if kw == {"sla_s": 1.0} else "swarm-work"
    with pytest.raises(UsageError):
        route_jobs(jc, res.placement, objective, **kw)


def test_place_throughput_prints_each_jobs_bottleneck(tmp_path, capsys) -> None:
    """``--joint-objective throughput``: each job's bottleneck and throughput, printed and
    in the JSON, re-scored by the evaluator and no worse than the time-optimal route's."""
    from splitopt.joint import Segment
    from splitopt.joint.evaluate import route_bottleneck

    target = tmp_path / "p.json"
    assert (
        main(["place", str(JOINT), "--joint-objective", "throughput", "--json", str(target)]) == 0
    )
    out = capsys.readouterr().out
    assert "joint routes (throughput" in out and "5 of 5 jobs routed" in out
    assert out.count("tokens/s") == 5
    (joint,) = json.loads(target.read_text())["meta"]["joint"]
    assert joint["objective"] == "throughput"
    jc = read_joint_cluster(JOINT)
    ((_, placement, _),) = read_placements(target, jc.cluster)
    ids = {s.id: j for j, s in enumerate(jc.cluster.servers)}
    for job, row in zip(jc.cluster.jobs, joint["jobs"], strict=True):
        route = tuple(
            Segment(CLIENT if s["device"] == "client" else ids[s["device"]], s["first"], s["last"])
            for s in row["segments"]
        )
        b = route_bottleneck(jc, placement, job, route)
        assert b == pytest.approx(row["bottleneck_s"], rel=1e-12)
        assert row["throughput_tokens_per_s"] == pytest.approx(1.0 / b, rel=1e-12)
        fast = best_route(jc, placement, job, "time").route
        if all(s.device != CLIENT for s in fast[1:-1]):  # the DP's route form
            assert b <= route_bottleneck(jc, placement, job, fast) * (1 + 1e-12)


def test_throughput_is_refused_where_it_is_not_implemented(capsys) -> None:
    assert main(["place", str(JOINT), "--joint-objective", "throughput", "--sla", "3"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["simulate", str(JOINT), "--joint-objective", "throughput"]) == 2
    err = capsys.readouterr().err
    assert "throughput" in err and err.count("\n") == 1
