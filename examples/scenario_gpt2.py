"""Tutorial: cost a deployment from a scenario file; GPT-2 becomes 14 layers.

Run from the repository root:  python examples/scenario_gpt2.py
"""

import splitopt

problem = splitopt.read("tests/data/docs-examples/scenario.json")  # compiled on reading
request = problem.requests[0]
chain = request.chain
print(f"{request.id}: {chain.num_layers} layers, SLA {chain.sla_s} s")
assert chain.num_layers == 14  # embed + 12 transformer blocks + head

result = splitopt.solve(problem, "dp-exact")
print("placement:", result.placements[0], "status:", result.status)
