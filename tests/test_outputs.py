"""The one output policy (splitopt.outputs, issue 9 group 2), checked on every kind of
write target for every command that writes: a target is never replaced when it is a
symlink or not a regular file, an input is never overwritten, a failed write is exit 2
naming the target and leaves no temporary file."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from splitopt.cli import main

ROOT = Path(__file__).resolve().parents[1]
HANDMADE = ROOT / "tests" / "data" / "tiny" / "handmade.json"
SCENARIO = ROOT / "tests" / "data" / "scenario" / "good" / "minimal.json"


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _leftovers(folder: Path) -> list[str]:
    """Temporary files an interrupted or failed write would leave."""
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


# ------------------------------------------------------------------ the commands that write


@dataclass(frozen=True)
class Writer:
    name: str
    argv: Callable[[Path, str], list[str]]  # (folder with a copy of the inputs, target)
    input_name: str | None  # the input a same-as-input case aims at
    fmt: str  # the "format" the written document has

    def setup(self, folder: Path) -> None:
        shutil.copy(HANDMADE, folder / "in.json")
        shutil.copy(SCENARIO, folder / "scenario.json")
        main(["solve", str(folder / "in.json"), "--json", str(folder / "sol.json")])


WRITERS = [
    Writer(
        "solve --json",
        lambda d, t: ["solve", str(d / "in.json"), "--solver", "dp,greedy", "--json", t],
        "in.json",
        "splitopt-solution",
    ),
    Writer(
        "evaluate --json",
        lambda d, t: ["evaluate", str(d / "in.json"), str(d / "sol.json"), "--json", t],
        "sol.json",
        "splitopt-solution",
    ),
    Writer(
        "compile -o",
        lambda d, t: ["compile", str(d / "scenario.json"), "-o", t],
        "scenario.json",
        "splitopt-problem",
    ),
    Writer(
        "generate -o",
        lambda d, t: ["generate", "random-chain", "--seed", "3", "--size", "tiny", "-o", t],
        None,
        "splitopt-problem",
    ),
]


def _is_doc(text: str, fmt: str) -> bool:
    doc = json.loads(text)
    docs = doc if isinstance(doc, list) else [doc]
    return all(d["format"] == fmt for d in docs)


# ------------------------------------------------------------------ the kinds of target
#
# Each kind makes a target in ``folder`` and returns (target, check) where check(code,
# err, folder) asserts the documented behaviour for that kind.


def _regular(folder: Path, w: Writer):
    t = folder / "out.json"
    t.write_text("old\n")
    t.chmod(0o640)

    def check(code, err, _):
        assert code == 0, err
        assert t.is_file() and not t.is_symlink() and _is_doc(t.read_text(), w.fmt)
        assert stat.S_IMODE(t.stat().st_mode) == 0o640  # the permission bits are kept

    return str(t), check


def _absent_in_new_folder(folder: Path, w: Writer):
    t = folder / "new" / "sub" / "out.json"

    def check(code, err, _):
        assert code == 0, err
        assert _is_doc(t.read_text(), w.fmt)

    return str(t), check


def _symlink_to_file(folder: Path, w: Writer):
    (folder / "elsewhere").mkdir()
    real = folder / "elsewhere" / "real.json"
    real.write_text("old\n")
    link = folder / "link.json"
    link.symlink_to(real)

    def check(code, err, _):
        assert code == 0, err
        assert link.is_symlink() and os.readlink(link) == str(real)  # the link stays
        assert _is_doc(real.read_text(), w.fmt)  # written through it

    return str(link), check


def _symlink_chain(folder: Path, w: Writer):
    real = folder / "real.json"
    real.write_text("old\n")
    (folder / "l1.json").symlink_to("real.json")
    (folder / "l2.json").symlink_to("l1.json")

    def check(code, err, _):
        assert code == 0, err
        assert os.readlink(folder / "l2.json") == "l1.json"
        assert os.readlink(folder / "l1.json") == "real.json"
        assert _is_doc(real.read_text(), w.fmt)

    return str(folder / "l2.json"), check


def _dangling_symlink(folder: Path, w: Writer):
    link = folder / "dangling.json"
    link.symlink_to("target.json")

    def check(code, err, _):
        assert code == 0, err
        assert link.is_symlink() and os.readlink(link) == "target.json"
        assert _is_doc((folder / "target.json").read_text(), w.fmt)

    return str(link), check


def _dangling_into_missing_folder(folder: Path, w: Writer):
    link = folder / "dangling.json"
    link.symlink_to(folder / "missing" / "target.json")

    def check(code, err, _):
        assert code == 2 and str(link) in err and err.count("\n") == 1, err
        assert link.is_symlink() and not (folder / "missing").exists()

    return str(link), check


def _fifo(folder: Path, w: Writer):
    fifo = folder / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def check(code, err, _):
        reader.join(timeout=30)
        assert code == 0, err
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO
        assert got and _is_doc(got[0].decode(), w.fmt)

    return str(fifo), check


def _dev_null(folder: Path, w: Writer):
    before = os.stat("/dev/null")

    def check(code, err, _):
        assert code == 0, err
        after = os.stat("/dev/null")
        assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev

    return "/dev/null", check


def _dev_full(folder: Path, w: Writer):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")

    def check(code, err, _):
        assert code == 2 and err.count("\n") == 1, err
        assert "/dev/full" in err and "No space left" in err
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)

    return "/dev/full", check


def _directory(folder: Path, w: Writer):
    d = folder / "adir"
    d.mkdir()

    def check(code, err, _):
        assert code == 2 and "is a directory" in err and err.count("\n") == 1, err
        assert d.is_dir() and list(d.iterdir()) == []

    return str(d), check


def _parent_is_a_file(folder: Path, w: Writer):
    (folder / "afile").write_text("keep\n")

    def check(code, err, _):
        assert code == 2 and str(folder / "afile" / "out.json") in err, err
        assert err.count("\n") == 1 and (folder / "afile").read_text() == "keep\n"

    return str(folder / "afile" / "out.json"), check


def _same_as_input(how: str):
    def make(folder: Path, w: Writer):
        assert w.input_name is not None
        inp = folder / w.input_name
        before = inp.read_bytes()
        if how == "path":
            target = str(inp)
        elif how == "dot path":
            target = str(folder / "." / w.input_name)
        elif how == "symlink":
            (folder / "alias.json").symlink_to(inp)
            target = str(folder / "alias.json")
        else:  # hard link
            os.link(inp, folder / "hard.json")
            target = str(folder / "hard.json")

        def check(code, err, _):
            assert code == 2 and err.count("\n") == 1, err
            assert "refusing to overwrite an input" in err and target in err
            assert inp.read_bytes() == before

        return target, check

    return make


def _read_only_file(folder: Path, w: Writer):
    t = folder / "ro.json"
    t.write_text("keep\n")
    t.chmod(0o444)
    if os.access(t, os.W_OK):  # root: permissions do not stop it; it is replaced

        def check(code, err, _):
            assert code == 0, err
            assert _is_doc(t.read_text(), w.fmt) and stat.S_IMODE(t.stat().st_mode) == 0o444

        return str(t), check

    def check(code, err, _):  # pragma: no cover - run as a normal user
        assert code == 2 and "read-only" in err and str(t) in err, err
        assert t.read_text() == "keep\n"

    return str(t), check


KINDS: dict[str, Callable] = {
    "read-only file": _read_only_file,
    "regular": _regular,
    "absent in a new folder": _absent_in_new_folder,
    "symlink": _symlink_to_file,
    "symlink chain": _symlink_chain,
    "dangling symlink": _dangling_symlink,
    "dangling symlink, missing folder": _dangling_into_missing_folder,
    "fifo": _fifo,
    "/dev/null": _dev_null,
    "/dev/full": _dev_full,
    "directory": _directory,
    "parent is a file": _parent_is_a_file,
    "same as input": _same_as_input("path"),
    "same as input (./ path)": _same_as_input("dot path"),
    "same as input via symlink": _same_as_input("symlink"),
    "same as input via hard link": _same_as_input("hard link"),
}


CASES = [
    pytest.param(w, k, id=f"{w.name}-{k}")
    for w in WRITERS
    for k in KINDS
    if w.input_name is not None or not k.startswith("same as input")
]


@pytest.mark.parametrize(("writer", "kind"), CASES)
def test_every_writer_on_every_target_kind(writer, kind, tmp_path, capsys):
    writer.setup(tmp_path)
    capsys.readouterr()
    target, check = KINDS[kind](tmp_path, writer)
    code, _, err = _cli(capsys, *writer.argv(tmp_path, target))
    assert "Traceback" not in err
    check(code, err, tmp_path)
    assert _leftovers(tmp_path) == []


def test_process_substitution_input_is_read_once(tmp_path):
    """``solve <(cat x.json) --json out`` works: each input is read exactly once."""
    if shutil.which("bash") is None:  # pragma: no cover
        pytest.skip("needs bash for process substitution")
    out = tmp_path / "out.json"
    cmd = f'{sys.executable} -m splitopt solve <(cat "{HANDMADE}") --json "{out}"'
    proc = subprocess.run(
        ["bash", "-c", cmd], capture_output=True, text=True, env=_env(), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert _is_doc(out.read_text(), "splitopt-solution")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_solve_writes_json_only_after_everything_else(tmp_path, capsys, monkeypatch):
    """The comparison table's extra greedy run fails: no --json file is written."""
    import splitopt.solvers

    real = splitopt.solvers.get_solver

    class Failing:
        def solve(self, problem):  # type: ignore[no-untyped-def]
            raise RuntimeError("greedy failed")

    def get_solver(name, **opts):  # type: ignore[no-untyped-def]
        return Failing() if name == "greedy" else real(name, **opts)

    monkeypatch.setattr(splitopt.solvers, "get_solver", get_solver)
    out = tmp_path / "out.json"
    code, _, err = _cli(capsys, "solve", HANDMADE, "--solver", "dp", "--json", out)
    assert code == 1 and "greedy failed" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_unwritable_folder_is_exit_2_naming_the_target(tmp_path, capsys):
    """No write permission on the folder (chmod 555; as root, whom permissions do not
    stop, the refusal is simulated at the temporary file's creation): exit 2 naming the
    target, never the temporary file, and nothing left."""
    import tempfile

    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    target = folder / "out.json"
    mp = pytest.MonkeyPatch()
    if os.geteuid() == 0:

        def mkstemp(*args, dir=None, **kw):  # type: ignore[no-untyped-def]
            if Path(dir) == folder:
                raise PermissionError(13, "Permission denied", str(folder / ".out.json.x.tmp"))
            return real_mkstemp(*args, dir=dir, **kw)

        real_mkstemp = tempfile.mkstemp
        mp.setattr(tempfile, "mkstemp", mkstemp)
    try:
        code, _, err = _cli(capsys, "solve", HANDMADE, "--json", target)
    finally:
        mp.undo()
        folder.chmod(0o755)
    assert code == 2 and err.count("\n") == 1, err
    assert str(target) in err and "Permission denied" in err and ".tmp" not in err
    assert list(folder.iterdir()) == []


def test_read_only_file_system_is_exit_2(capsys):
    """/sys is read-only (or refuses new files) on Linux: a real refusal, even as root."""
    probe = Path("/sys/splitopt-probe.json")
    try:
        probe.write_text("x")
    except OSError:
        pass
    else:  # pragma: no cover - a writable /sys
        probe.unlink()
        pytest.skip("/sys accepts new files here")
    code, _, err = _cli(capsys, "solve", HANDMADE, "--json", probe)
    assert code == 2 and str(probe) in err and err.count("\n") == 1, err
    assert not probe.exists()


@pytest.mark.parametrize("how", ["KeyboardInterrupt", "SIGTERM"])
def test_interrupted_write_leaves_no_temporary_file(how, tmp_path):
    """An interruption while the temporary file is being written removes it; the old
    target is untouched (exit 130 for Ctrl-C, 143 for SIGTERM)."""
    target = tmp_path / "out.json"
    target.write_text("old\n")
    action = (
        "raise KeyboardInterrupt"
        if how == "KeyboardInterrupt"
        else "os.kill(os.getpid(), signal.SIGTERM); time.sleep(30)"
    )
    code = textwrap.dedent(
        f"""
        import os, signal, sys, time
        import splitopt.outputs
        real_fsync = os.fsync
        def fsync(fd):
            {action}
        os.fsync = fsync
        from splitopt.cli import main
        sys.exit(main(["solve", {str(HANDMADE)!r}, "--json", {str(target)!r}]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert proc.returncode == (130 if how == "KeyboardInterrupt" else 143), proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    assert target.read_text() == "old\n"


# ------------------------------------------------------------------ experiment --out


def _csv(path: Path, experiment: str) -> None:
    path.write_text(f"experiment,key,task_index,value\n{experiment},abc,0,1\n")


def _then(path: Path, make: Callable[[Path], object]) -> str:
    make(path)
    return str(path)


CSV_TARGETS: dict[str, tuple[Callable[[Path], str], str]] = {
    # name: (make the target in a folder, the error text)
    "json file": (
        lambda d: _then(d / "some.json", lambda p: p.write_text('{"keep": 1}\n')),
        "is not a splitopt results CSV",
    ),
    "text without experiment column": (
        lambda d: _then(d / "notes.csv", lambda p: p.write_text("a,b\n1,2\n")),
        "is not a splitopt results CSV",
    ),
    "another experiment's csv": (
        lambda d: _then(d / "other.csv", lambda p: _csv(p, "reduction")),
        "holds rows of experiment 'reduction'",
    ),
    "symlink to another experiment's csv": (
        lambda d: _then(
            d / "alias.csv",
            lambda p: (_csv(d / "other.csv", "gain"), p.symlink_to(d / "other.csv")),
        ),
        "holds rows of experiment 'gain'",
    ),
    "binary file": (
        lambda d: _then(d / "bin.csv", lambda p: p.write_bytes(b"\xff\xfe\x00\x01")),
        "cannot be read as a results CSV",
    ),
    "/dev/null": (lambda d: "/dev/null", "must be a regular file"),
    "fifo": (lambda d: _then(d / "p.csv", os.mkfifo), "must be a regular file"),
    "directory": (lambda d: _then(d / "dir.csv", Path.mkdir), "is a directory"),
}


@pytest.mark.parametrize("kind", list(CSV_TARGETS))
def test_experiment_out_refuses_what_it_would_destroy(kind, tmp_path, capsys):
    make, expected = CSV_TARGETS[kind]
    target = make(tmp_path)
    p = Path(target)
    before = (
        p.read_bytes() if p.is_file() else None,
        os.lstat(p).st_mode if os.path.lexists(p) else None,
    )
    code, _, err = _cli(capsys, "experiment", "sleepy", "--out", target, "--workers", "1")
    assert code == 2 and expected in err and target in err and err.count("\n") == 1, err
    after = (
        p.read_bytes() if p.is_file() else None,
        os.lstat(p).st_mode if os.path.lexists(p) else None,
    )
    assert after == before
    assert _leftovers(tmp_path) == []


def test_experiment_out_through_a_symlink_resumes_its_own_csv(tmp_path, capsys):
    """A symlink to an empty file, then to the same experiment's CSV: accepted, written
    through, the link stays a link."""
    real = tmp_path / "real.csv"
    real.write_text("")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    code, _, err = _cli(capsys, "experiment", "sleepy", "--out", link, "--workers", "1")
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)
    rows = real.read_text().splitlines()
    assert rows[0].startswith("experiment,key") and len(rows) == 21
    code, _, err = _cli(capsys, "experiment", "sleepy", "--out", link, "--workers", "1")
    assert code == 0 and len(real.read_text().splitlines()) == 21
    assert _leftovers(tmp_path) == []
