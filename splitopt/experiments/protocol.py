"""The settings of the pre-registered SplitLLM protocol (``paper/PROTOCOL.md``):
setting P and the points of its four declared sweeps. Data only, so
that the catalogue (which runs them) and the tables and figures (which read
their rows) share one definition.
"""

from __future__ import annotations

from typing import Any

#: The settings of the pre-registered SplitLLM protocol (``paper/PROTOCOL.md``):
#: setting P ("the paper's setting as far as the sources state it") and the four
#: declared sweeps, each one factor away from P. name -> (sweep, x label,
#: :func:`splitopt.experiments.instances.setting_instance` keywords).
PROTOCOL_SETTINGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "P": ("P", "P", {}),
    "sla-server-0.1": ("sla_anchor", "slack 0.1", {"sla_anchor": "server", "slack": 0.1}),
    "sla-server-0.25": ("sla_anchor", "slack 0.25", {"sla_anchor": "server", "slack": 0.25}),
    "sla-server-0.5": ("sla_anchor", "slack 0.5", {"sla_anchor": "server", "slack": 0.5}),
    "sla-server-1.0": ("sla_anchor", "slack 1.0", {"sla_anchor": "server", "slack": 1.0}),
    "memory-on": ("memory", "budgets on", {"memory": True}),
    "work-seconds": ("work_unit", "server seconds", {"work_unit": "s"}),
    "prefill-only": ("decode", "prefill only", {"decode": False}),
}
#: What P is on each sweep's axis (its x label).
PROTOCOL_P_LABEL: dict[str, str] = {
    "sla_anchor": "between bounds (P)",
    "memory": "no budget (P)",
    "work_unit": "FLOP (P)",
    "decode": "prefill + decode (P)",
}
