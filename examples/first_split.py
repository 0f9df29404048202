"""Tutorial: solve a hand-written problem file, compare solvers, write and re-read.

Run from the repository root:  python examples/first_split.py
"""

import tempfile
from pathlib import Path

import splitopt

# 1. Read a problem file (a scenario file works the same way: it is compiled).
problem = splitopt.read("tests/data/docs-examples/problem.json")
print(problem.name, "-", len(problem.requests), "requests")

# 2. Solve with the exact label DP and with greedy (our reading of SplitLLM's baseline).
exact = splitopt.solve(problem, "dp-exact")
greedy = splitopt.solve(problem, "greedy")
for r in exact:  # one RequestResult per request: placement, figures from the evaluator
    print(f"  {r.id:14} {r.status:10} placement={r.placement} work={r.server_work}")

# 3. Every figure comes from the one evaluator; the exact DP never does more work.
assert exact.objective <= greedy.objective + 1e-12
print("server work: dp-exact", exact.objective, "greedy", greedy.objective)

# 4. Why is a request not served? The reason is computed from the evaluator's figures.
for rid, reason in splitopt.reasons(exact).items():
    print(f"  {rid}: {reason.text}")

# 5. Write a splitopt-solution file and re-score it: the certified status is kept.
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "solution.json"
    splitopt.write(exact, path)
    again = splitopt.read_solution(problem, path)
    assert again.placements == exact.placements
    assert again.statuses == exact.statuses
    print("re-read:", again.status, again.placements)
