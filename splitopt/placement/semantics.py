"""Named simulation semantics of the online simulator.

Two models of the same system are kept, each exact in its own terms:

* ``splitopt`` (the default) — the physical model of SPEC-PLACEMENT P3: a request
  holds its attention cache from its *admission* to its completion (never more memory
  than a server has); PETALS's +10 s penalty when a server has no cache room now for a
  request over its whole span (PETALS's ``_has_cache_for``); PETALS's client retries
  after 1, 2, 4, ... s, WS-RR and the others start as soon as the route has room; no
  constant delays.
* ``authors`` — the authors' MATLAB simulator (``WS_RR.m``, ``Petals_online.m``,
  ``test_general_case_online.m`` of TingyangSunJeff/LLM_inference_simulator), as it
  computes per-request times:

  1. a request's cache is counted from its *arrival* (a waiting request holds memory);
  2. PETALS's penalty when the server's sessions equal floor(cache / (m_j s_c))
     exactly (the MATLAB's ``session_capacity(j) - sessions == 0``);
  3. every policy's wait is rounded up to PETALS's retry instants (1, 2, 4, ... s,
     each step capped at 60 s), and every request pays the script's initial delay
     (100 ms in the clustered scenario, 70 ms in the scattered one) plus the scripts'
     allocation delay (250 s for PETALS routing, 60 s for the others); the design
     time T1 of the R rule includes the initial delay (``BPRR_heuristic_general_extended.m``);
  4. PETALS's per-block routing cost is the server's decode time tau_j (the MATLAB's
     ``tau``), not 1 / inference_rps;
  5. cache is counted in whole per-request slots floor(free / s_c), one slot per block
     a request runs. The MATLAB has one request class (one client, one l_in + l_out);
     with several classes every slot is the largest class's s_c, the one CG-BP is
     designed for (ours: :func:`splitopt.placement.online.slot_bytes`).

  GBP-CR + JFFC is not in the authors' code (it is the follow-up's; no MATLAB script
  runs JFFC). Under ``authors`` it gets the scripts' delays of the authors' own method
  (initial delay + 60 s) but neither the retry rounding nor the cache-from-arrival rule:
  JFFC's central queue hands a request to a chain the moment a slot frees, with no
  client retries and no memory held while queued (our assumptions).

* ``authors-delays`` — deprecated: the earlier, looser ``--authors-delays`` (only the
  250 s / 60 s constants and WS-RR's retry rounding on top of ``splitopt``), kept so
  that files made with it can be reproduced.

Both semantics use the cluster's server-to-server round trips for PETALS's
server-to-server hops when the cluster gives them (``Cluster.server_rtt_s``), as
PETALS and the MATLAB do, and cap a server's PETALS block count at its ``max_blocks``
(the MATLAB caps MIG slices at 4).
"""

from __future__ import annotations

from dataclasses import dataclass

from splitopt.errors import SolverError
from splitopt.placement.model import Cluster

#: The authors' scripts' constant per-request allocation delays (s).
AUTHORS_ALLOC_DELAY_S = {"petals": 250.0, "proposed": 60.0}
#: The authors' scripts' initial delay (s): ``test_general_case_online.m``.
AUTHORS_INITIAL_DELAY_S = {"clustered": 0.100, "scattered": 0.070}


@dataclass(frozen=True)
class Semantics:
    """What the simulator counts (see the module docstring)."""

    name: str
    from_arrival: bool = False
    session_rule: bool = False
    backoff_all: bool = False
    constant_delays: bool = False
    initial_delay: bool = False
    petals_tau: bool = False
    slots: bool = False

    def alloc_delay_s(self, routing: str) -> float:
        """The constant per-request delay (s) of a policy with ``routing``."""
        if not self.constant_delays:
            return 0.0
        return AUTHORS_ALLOC_DELAY_S["petals" if routing == "petals" else "proposed"]

    def initial_delay_s(self, cluster: Cluster) -> float:
        """The scripts' initial delay for ``cluster`` (s; 0 unless ``initial_delay``):
        70 ms for a scattered (Topology Zoo) cluster, 100 ms otherwise."""
        if not self.initial_delay:
            return 0.0
        kind = "scattered" if "topology" in cluster.meta else "clustered"
        return float(cluster.meta.get("initial_delay_s", AUTHORS_INITIAL_DELAY_S[kind]))


SEMANTICS: dict[str, Semantics] = {
    "splitopt": Semantics("splitopt"),
    "authors": Semantics(
        "authors",
        from_arrival=True,
        session_rule=True,
        backoff_all=True,
        constant_delays=True,
        initial_delay=True,
        petals_tau=True,
        slots=True,
    ),
    "authors-delays": Semantics("authors-delays", backoff_all=True, constant_delays=True),
}


def get_semantics(name: str | Semantics) -> Semantics:
    """The named semantics; :class:`SolverError` naming the valid ones if unknown."""
    if isinstance(name, Semantics):
        return name
    if name not in SEMANTICS:
        raise SolverError(f"unknown semantics {name!r}; valid: {', '.join(SEMANTICS)}")
    return SEMANTICS[name]


__all__ = [
    "AUTHORS_ALLOC_DELAY_S",
    "AUTHORS_INITIAL_DELAY_S",
    "SEMANTICS",
    "Semantics",
    "get_semantics",
]
