"""place --emit petals: PETALS run_server commands whose --block_indices match the placement."""

from __future__ import annotations

import re
import shlex

import splitopt
from splitopt.placement.emit import block_indices, petals_commands

CLUSTER = "instances/clusters/paper-clustered.json"


def _petals_range(spec: str) -> range:
    # as PETALS's Server parses --block_indices: "start:end" -> range(start, end)
    start, end = (int(x.strip()) for x in spec.split(":"))
    return range(start, end)


def test_block_indices_are_zero_based_end_exclusive():
    assert block_indices(1, 4) == "0:4"
    assert list(_petals_range(block_indices(13, 58))) == list(range(12, 70))


def test_commands_host_exactly_the_placements_blocks():
    cluster = splitopt.read_cluster(CLUSTER)
    res = splitopt.place(cluster, "cg-bprr")
    text = petals_commands(cluster, res, "bigscience/bloom")
    cmds = [shlex.split(line) for line in text.splitlines() if line.startswith("python ")]
    hosting = [j for j, m in enumerate(res.placement.count) if m > 0]
    assert len(cmds) == len(hosting)
    for cmd, j in zip(cmds, hosting, strict=True):
        assert cmd[:4] == ["python", "-m", "petals.cli.run_server", "bigscience/bloom"]
        got = _petals_range(cmd[cmd.index("--block_indices") + 1])
        a, m = int(res.placement.first[j]), int(res.placement.count[j])
        assert list(got) == [b - 1 for b in range(a, a + m)]  # 1-based -> 0-based
    assert "--new_swarm" in cmds[0] and all("--initial_peers" in c for c in cmds[1:])


def test_cli_emit_prints_commands_on_stdout_report_on_stderr(tmp_path, cli):
    proc = cli(
        "place",
        "tests/data/docs-examples/cluster.json",
        "--algorithm",
        "cg-bprr,petals",
        "--emit",
        "petals",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("petals.cli.run_server") == 4
    assert re.search(r"warning: this placement is infeasible", proc.stdout)
    assert "objective" in proc.stderr or "routes" in proc.stderr
    bad = cli("place", CLUSTER, "--emit", "petals", "--json", "-")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
