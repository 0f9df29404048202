"""`place` and `simulate` follow the output policy: an output that is the input cluster
file (by its path or through a link) is refused before any work, the input intact."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from splitopt.cli import main

TINY = Path(__file__).resolve().parents[1] / "instances" / "clusters" / "tiny.json"


COMMANDS = [["place", "--algorithm", "cg-bprr"], ["simulate", "--seeds", "1"]]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("how", ["same path", "symlink", "hard link"])
def test_output_that_is_the_input_is_refused(tmp_path: Path, capsys, command, how) -> None:
    cluster = tmp_path / "c.json"
    shutil.copy(TINY, cluster)
    before = cluster.read_bytes()
    target = cluster
    if how == "symlink":
        target = tmp_path / "link.json"
        target.symlink_to(cluster)
    elif how == "hard link":
        target = tmp_path / "hard.json"
        os.link(cluster, target)
    code = main([command[0], str(cluster), *command[1:], "--json", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert "refusing to overwrite an input" in err and err.count("\n") == 1
    assert cluster.read_bytes() == before
