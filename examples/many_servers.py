"""Tutorial: place a model on two servers, route the jobs, simulate online arrivals.

Run from the repository root:  python examples/many_servers.py
"""

import splitopt

cluster = splitopt.read_cluster("tests/data/docs-examples/cluster.json")
print(cluster.name, "-", len(cluster.servers), "servers,", cluster.model.num_blocks, "blocks")

placed = splitopt.place(cluster, "cg-bprr")  # scored by the many-server evaluator
print("cg-bprr:", placed.status, "sum of request times", placed.objective, "s")
# block ranges, numbered from 1: server j hosts first[j] .. first[j] + count[j] - 1
p = placed.placement
for server, first, count in zip(cluster.servers, p.first, p.count, strict=True):
    print(f"  {server.id}: blocks {first}..{first + count - 1}")

sim = splitopt.simulate(cluster, ["cg-bp+ws-rr", "petals"], seeds=2, num_requests=20)
for policy, row in sim.table.items():
    mean, served = row["per_token_mean"], row["served"]
    print(f"  {policy:14} mean per-token time {mean:.3f} s, served {served:.0%}")
