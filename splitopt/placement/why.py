"""Why a many-server policy serves fewer requests than it is sent (for tables and JSON).

A run in which some request is never admitted reports a mean per-token time of
``inf``; these notes say why, from the run's placement: blocks that no server hosts
(PETALS's placement can leave some: it reserves cache for 4,096 tokens per block and
joins servers in a random order), or requests that found no route with room.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from splitopt.placement.model import Placement
from splitopt.placement.simulate import SimRun


def unhosted_blocks(placement: Placement, num_blocks: int) -> list[int]:
    """The blocks (numbered 1..L, as the placement's ranges) that no server hosts."""
    hosted = np.zeros(num_blocks + 2, dtype=bool)
    for a, m in zip(placement.first, placement.count, strict=True):
        if m > 0:
            hosted[int(a) : int(a) + int(m)] = True
    return [b for b in range(1, num_blocks + 1) if not hosted[b]]


def _ranges(blocks: Sequence[int]) -> str:
    out: list[str] = []
    start: int | None = None
    prev = 0
    for b in blocks:
        if start is None:
            start = prev = b
        elif b == prev + 1:
            prev = b
        else:
            out.append(f"{start}" if start == prev else f"{start}–{prev}")
            start = prev = b
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}–{prev}")
    return ", ".join(out)


def unserved_notes(runs: Sequence[SimRun]) -> dict[str, str]:
    """Per policy whose runs leave requests unserved: one line saying why."""
    by: dict[str, list[SimRun]] = {}
    for r in runs:
        by.setdefault(r.policy, []).append(r)
    notes: dict[str, str] = {}
    for policy, rs in by.items():
        unserved = sum(int((~r.served).sum()) for r in rs)
        if not unserved:
            continue
        total = sum(r.served.size for r in rs)
        holes = [r for r in rs if r.info.get("unhosted_blocks")]
        if holes:
            seeds = ", ".join(str(r.seed) for r in holes)
            blocks = _ranges(holes[0].info["unhosted_blocks"])
            notes[policy] = (
                f"{unserved} of {total} requests unserved: the placement hosts no copy of "
                f"block(s) {blocks} (seed {holes[0].seed}; in {len(holes)} of {len(rs)} runs: "
                f"seeds {seeds}), so no route exists"
            )
        else:
            notes[policy] = (
                f"{unserved} of {total} requests unserved: no route with room for their "
                "cache was found"
            )
    return notes


__all__ = ["unhosted_blocks", "unserved_notes"]
