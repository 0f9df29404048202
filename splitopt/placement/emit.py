"""Deployment hand-off: a placement as PETALS server launch commands.

PETALS's server CLI (``python -m petals.cli.run_server``, ``src/petals/cli/run_server.py``
of bigscience-workshop/petals) takes the model as its positional argument and
``--block_indices START:END``, which its ``Server`` parses as ``range(START, END)``:
0-based, END exclusive. A splitopt placement numbers blocks from 1 (server j hosts
``first[j] .. first[j] + count[j] - 1``), so server j gets
``--block_indices first[j]-1:first[j]-1+count[j]``.

The first server starts a private swarm (``--new_swarm``); the others join it with
``--initial_peers "$INITIAL_PEERS"`` (the multiaddress the first one prints). The
model's Hugging Face name is ``$MODEL`` unless given: a cluster file names a block
model, not a repository. Servers that host nothing get no command.
"""

from __future__ import annotations

import shlex

from splitopt.placement.model import Cluster
from splitopt.placement.result import PlacementResult


def block_indices(first: int, count: int) -> str:
    """PETALS's ``--block_indices`` (0-based, end exclusive) of 1-based ``first``, ``count``."""
    start = int(first) - 1
    return f"{start}:{start + int(count)}"


def petals_commands(cluster: Cluster, result: PlacementResult, model: str | None = None) -> str:
    """A shell script: one ``run_server`` command per server that hosts blocks."""
    lines = [
        f"# PETALS servers for {cluster.name}: placement by {result.algorithm} "
        f"(status {result.status}); run each command on its server.",
        "# Blocks: --block_indices START:END is 0-based, END exclusive (PETALS's CLI).",
    ]
    if result.placement is None:
        lines.append(f"# no placement: {result.message or result.status}")
        return "\n".join(lines) + "\n"
    if result.status not in ("optimal", "feasible"):
        lines.append(
            f"# warning: this placement is {result.status}"
            + (f" ({result.message})" if result.message else "")
            + ": the swarm would not serve every request"
        )
    name = shlex.quote(model) if model else '"$MODEL"'
    if not model:
        lines.append(': "${MODEL:?set MODEL to the model\'s Hugging Face name}"')
    first_server = True
    pl = result.placement
    for server, a, m in zip(cluster.servers, pl.first, pl.count, strict=True):
        if m <= 0:
            lines.append(f"# {server.id}: hosts no block")
            continue
        peers = "--new_swarm" if first_server else '--initial_peers "$INITIAL_PEERS"'
        lines.append(
            f"# {server.id}: blocks {int(a)}..{int(a) + int(m) - 1} of {cluster.num_blocks} "
            "(numbered from 1)"
        )
        lines.append(
            f"python -m petals.cli.run_server {name} --block_indices "
            f"{block_indices(a, m)} {peers}"
        )
        if first_server:
            lines.append(
                "# then: export INITIAL_PEERS=<the multiaddress the first server prints>"
            )
        first_server = False
    return "\n".join(lines) + "\n"


__all__ = ["block_indices", "petals_commands"]
