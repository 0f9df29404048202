"""A 2-server, 2-block cluster solved by hand (shared by the MILP and brute-force tests).

L = 2 blocks, s_m = 2 B, 1 B of cache per token per block; one client.
Server s0: tau = 0.1, tau^I = 0.2 + 0.01 l_in; round trips t = 0.5, t^I = 1.0.
Server s1: tau = 0.3, tau^I = 0.05;            round trips t = 0.0, t^I = 0.2.
A job with l_in = 10, l_out = 3 (s_c = 13 B per block) taking k blocks at a hop:

    at s0: prefill 1.0 + k (0.2 + 0.1) + decode 2 (0.5 + 0.1 k) = 2.0 + 0.5 k
    at s1: prefill 0.2 + k 0.05        + decode 2 (0.0 + 0.3 k) = 0.2 + 0.65 k

Routes: s0 alone (k = 2) 3.0; s1 alone 1.5; s0 then s1 or s1 then s0
(k = 1 each) 2.5 + 0.85 = 3.35. So:

* one job, memory plenty: s1 hosts 1..2, T = 1.5;
* s1 capped at one block: best is s0 alone, T = 3.0;
* two such jobs, s1 with 30 B: s1 fits its 2 blocks (4 B) and one job's cache on
  both (26 B) but not a second job (another 26 B, or 13 B for one block): one job
  on s1 (1.5), the other on s0 alone (3.0): total 4.5. (s1 hosting one block
  instead: 2 + 2 x 13 = 28 B fits both jobs on s0 -> s1, 2 x 3.35 = 6.7, worse.)
* every server with 3 B: a block (2 B) plus one block of cache (13 B) never fits:
  infeasible.
"""

from __future__ import annotations

import numpy as np

from splitopt.placement.model import BlockModel, Cluster, Job, Server


def two_by_two(
    jobs: int = 1, memory: tuple[float, float] = (1000.0, 1000.0), cap1: int | None = None
) -> Cluster:
    return Cluster(
        "hand-2x2",
        BlockModel(2, 2.0, 1.0),
        (
            Server("s0", memory[0], decode_s=0.1, prefill_s0=0.2, prefill_s1=0.01),
            Server("s1", memory[1], decode_s=0.3, prefill_s0=0.05, max_blocks=cap1),
        ),
        ("c0",),
        rtt_s=np.array([[0.5, 0.0]]),
        prefill_rtt_s=np.array([[1.0, 0.2]]),
        jobs=tuple(Job(0, 10, 3, f"r{i}") for i in range(jobs)),
    )


#: (cluster, optimal sum_r T_r or None for infeasible) checked by hand above
HAND_CASES = {
    "one-job": (lambda: two_by_two(), 1.5),
    "cap": (lambda: two_by_two(cap1=1), 3.0),
    "memory-couples-jobs": (lambda: two_by_two(jobs=2, memory=(1000.0, 30.0)), 4.5),
    "infeasible": (lambda: two_by_two(memory=(3.0, 3.0)), None),
}
