"""One output-locking policy for every writer (docs/reliability.md): while a run holds
an output, a second run writing it stops at once (exit 2, one line naming the file and
the holder's pid) and writes nothing; the lock leaves with its holder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from splitopt.cli import main
from splitopt.errors import OutputError
from splitopt.outputs import OutputLock

TINY = "instances/clusters/tiny.json"


@pytest.mark.parametrize(
    "argv",
    [
        ["place", TINY, "--json", "{out}"],
        ["simulate", TINY, "--seeds", "1", "--requests", "20", "--json", "{out}"],
        ["solve", "instances/demo/scenario.json", "--json", "{out}"],
        ["compile", "instances/demo/scenario.json", "-o", "{out}"],
    ],
)
def test_second_writer_of_an_output_fails_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    out = tmp_path / "out.json"
    out.write_text("held\n")
    args = [a.replace("{out}", str(out)) for a in argv]
    with OutputLock(out):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(out) in err and f"pid {os.getpid()}" in err
        assert out.read_text() == "held\n"
    assert not (tmp_path / "out.json.lock").exists()
    assert main(args) == 0  # released: the same command now writes
    assert out.read_text() != "held\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_lock_follows_a_symlink_and_skips_streams(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with OutputLock(link), pytest.raises(OutputError, match="in use by pid"):
        OutputLock(real).acquire()
    with OutputLock("/dev/null"), OutputLock("/dev/null"), OutputLock("-"):
        pass  # devices and stdout are not locked
