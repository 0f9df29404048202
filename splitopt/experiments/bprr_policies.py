"""The policies the BPRR experiments compare, one list for the tables
(:mod:`~splitopt.experiments.online`), the sweeps (:mod:`~splitopt.experiments.bprr_sweeps`)
and the load study. Names are ``placement+routing`` (:mod:`splitopt.placement.online`)."""

from __future__ import annotations

#: Every policy of the full runs: PETALS, the paper's ablations, CG-BP + WS-RR, the
#: follow-up's GBP-CR + JFFC and ours.
POLICIES = (
    "petals+petals",
    "petals-cg-order+petals",
    "petals-cg-counts+petals",
    "petals+ws-rr",
    "cg-bp+ws-rr",
    "gbp-cr+jffc",
    "sim-opt+ws-rr",
)
#: ... and of the quick runs: PETALS, the paper's, the follow-up's and ours.
QUICK_POLICIES = ("petals+petals", "cg-bp+ws-rr", "gbp-cr+jffc", "sim-opt+ws-rr")
