"""The summary table of a ``joint-verify`` run (its own module so that ``python -m``
runs it without the catalogue having imported it first)."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """``python -m splitopt.experiments.joint_verify_report CSV [OUT.md]``: the summary table of
    a run (printed, and written to ``OUT.md``); exit 1 on any disagreement or failed task."""
    import sys
    from pathlib import Path

    from splitopt.experiments.harness import read_csv_rows
    from splitopt.experiments.joint_verify import summarise

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(
            "usage: python -m splitopt.experiments.joint_verify_report CSV [OUT.md]",
            file=sys.stderr,
        )
        return 2
    rows = read_csv_rows(args[0])
    text = (
        "# Joint model: exact DP verification (`splitopt experiment joint-verify`)\n\n"
        f"Generated from `{args[0]}` by `python -m splitopt.experiments.joint_verify_report`.\n\n"
        + summarise(rows)
        + "\n"
    )
    print(text, end="")
    if len(args) > 1:
        Path(args[1]).write_text(text)
    bad = any(r.get("error") or int(float(r.get("disagreements") or 0)) for r in rows)
    return 1 if bad else 0


__all__ = ["main"]


if __name__ == "__main__":
    raise SystemExit(main())
