"""How the experiments show each online policy: one row per registered policy name
(:data:`splitopt.placement.policies.POLICIES`) with its label (figures, the sweep
tables), short name (the report's tables), colour and marker (figures).

A policy drawn by an experiment needs a row here; a test holds every key to a
registered policy. The tables of the BPRR modules (``LABELS``, ``SHORT``, ``COLORS``,
``MARKERS``) are views of this one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Display:
    """label: long name; short: compact name for tables; colour: matplotlib colour;
    marker: matplotlib marker."""

    label: str
    short: str
    colour: str
    marker: str


DISPLAY: dict[str, Display] = {
    "petals+petals": Display("PETALS", "PETALS", "#d62728", "v"),
    "petals-cg-order+petals": Display(
        "PETALS, CG order", "PETALS, CG-BP order", "#ff9896", "<"
    ),
    "petals-cg-counts+petals": Display(
        "PETALS, CG counts", "PETALS, CG-BP counts", "#e377c2", ">"
    ),
    "petals-cg-order-paper+petals": Display(
        "PETALS, Optimized Order (paper)", "Opt. Order (paper)", "#bcbd22", "P"
    ),
    "petals-cg-counts-paper+petals": Display(
        "PETALS, Optimized Number (paper)", "Opt. Number (paper)", "#8c564b", "X"
    ),
    "petals+ws-rr": Display("PETALS + WS-RR", "PETALS + WS-RR", "#9467bd", "^"),
    "cg-bp+ws-rr": Display("CG-BP + WS-RR", "CG-BP+WS-RR", "#1f77b4", "o"),
    "gbp-cr+jffc": Display("GBP-CR + JFFC", "GBP-CR+JFFC", "#2ca02c", "s"),
    "sim-opt+ws-rr": Display("sim-opt (ours)", "sim-opt (ours)", "#000000", "D"),
}

#: Views for the modules that index one attribute by policy name.
LABELS: dict[str, str] = {k: d.label for k, d in DISPLAY.items()}
SHORT: dict[str, str] = {k: d.short for k, d in DISPLAY.items()}
COLORS: dict[str, str] = {k: d.colour for k, d in DISPLAY.items()}
MARKERS: dict[str, str] = {k: d.marker for k, d in DISPLAY.items()}

__all__ = ["COLORS", "DISPLAY", "LABELS", "MARKERS", "SHORT", "Display"]
