"""What every field of every file format means, with its unit: the ``description``
of each property in the JSON Schemas (:mod:`splitopt.formats.schemas`), and the
source of the field reference in the documentation.

:data:`FIELDS` maps a field name to its description. A name that means different
things in different objects has entries keyed ``"FORMAT/OBJECT/field"`` or
``"FORMAT/field"`` (FORMAT is the schema's short name, OBJECT the ``$defs`` entry,
or ``document`` for the top level); :func:`describe` takes the most specific one.
A schema property without a description fails the generation (a test checks it).
"""

from __future__ import annotations

import json
from typing import Any

FIELDS: dict[str, str] = {
    # -- every document ------------------------------------------------------------------
    "format": "The document's format name (fixed per file kind).",
    "version": "The format's version (this program reads version 1).",
    "name": "A label; a file name stem is used where it is absent.",
    "meta": "Free-form descriptors (any JSON object); never read by a computation.",
    "description": "A one-line human-readable description.",
    "source": "Where the figures come from (URL or citation).",
    "notes": "Derivations, simplifications and caveats worth knowing.",
    "splitopt_version": "The splitopt version that wrote the file.",
    "work_unit": "The unit of server work (`server_work`, the objective): "
    "`seconds`, `flops` or `bytes` of server time, compute or traffic.",
    # -- splitopt-problem ----------------------------------------------------------------
    "problem/document/requests": "The requests, each with its own per-layer chain.",
    "problem/request/id": "The request's id (unique in the file).",
    "client_time_s": "a_l: seconds the client needs for each layer l (length L).",
    "server_time_s": "c_l: seconds the server needs for each layer l (length L).",
    "server_work": "w_l: server cost of each layer l in the file's `work_unit` (length L).",
    "uplink_s": "u_b: client-to-server transfer seconds at each boundary b (length L + 1; "
    "boundary 0 is before the first layer).",
    "downlink_s": "v_b: server-to-client transfer seconds at each boundary b (length L + 1).",
    "client_memory_bytes": "m_l: client bytes each layer l needs when it runs on the "
    "client (length L).",
    "sla_s": "D: the latency SLA, seconds (> 0).",
    "memory_budget_bytes": "M: client bytes available to the model; null = unlimited.",
    "weight": "The request's weight in the objective (>= 0; e.g. its rate).",
    "start": "Where the request's input is: `client` or `server`.",
    "end": "Where the request's output must be: `client` or `server`.",
    # -- splitopt-solution ---------------------------------------------------------------
    "instance": "The problem's name.",
    "solver": "The registered name of the solver that produced the answer.",
    "solution/document/status": "The run's status: `optimal` (proved), `feasible`, "
    "`infeasible`, `time_limit` or `error`.",
    "objective": "Σ weight × server work over feasible requests, in `work_unit` "
    "(the evaluator's figure); null where no request is feasible.",
    "runtime_s": "Wall-clock seconds of the solve.",
    "options": "The solver's options as flat key/values (replay them with --replay).",
    "summary": "Headline figures over all requests.",
    "solution/document/requests": "Per request: its placement and the evaluator's figures.",
    "solution/summary/requests": "Number of requests.",
    "solution/summary/feasible": "Requests with a placement that meets the SLA and budget.",
    "infeasible": "Requests without such a placement.",
    "server_only_work": "Σ weight × server work if every layer ran on the server "
    "(the baseline), in `work_unit`; null where undefined.",
    "server_only_infeasible": "Requests whose server-only placement breaks the SLA.",
    "reduction_vs_server_only": "1 − objective / server_only_work: the fraction of server "
    "work saved (null where undefined).",
    "solution/request/id": "The request's id (as in the problem).",
    "solution/request/status": "The request's status (as the run's).",
    "placement": "One letter per layer, `C` (client) or `S` (server); null = none found.",
    "solution/request/server_work": "The request's server work, in `work_unit` "
    "(null without a placement).",
    "latency_s": "The request's end-to-end latency, seconds (null without a placement).",
    "solution/request/client_memory_bytes": "Client bytes the placement needs "
    "(null without a placement).",
    "solution/request/feasible": "Whether the placement meets the SLA and memory budget.",
    "bound": "A proved lower bound on the request's server work (exact solvers), in "
    "`work_unit`; null where none.",
    "message": "Why the request has no answer, where it has none.",
    # -- splitopt-scenario ---------------------------------------------------------------
    "server": "The server: a catalogue device (or explicit one), an engine, profiles.",
    "clients": "The clients by name.",
    "models": "The deployed models by name.",
    "scenario/document/requests": "The request classes.",
    "scenario/document/description": "A one-line description of the scenario.",
    "device": "A catalogue device name or an explicit device object.",
    "engine": "A serving engine (catalogue name): its figures replace the device's.",
    "profiles": "Measured profiles (file names or inline `splitopt-profile` objects) that "
    "replace the roofline for the models they were measured for.",
    "network": "A catalogue network name or an explicit network object.",
    "efficiency": "Shorthand for both efficiencies below, in (0, 1].",
    "compute_efficiency": "Fraction of peak FLOP/s reached, in (0, 1].",
    "bandwidth_efficiency": "Fraction of memory bandwidth reached, in (0, 1].",
    "prefill_overhead_s": "Fixed seconds per prefill pass and transformer block (>= 0).",
    "step_overhead_s": "Fixed seconds per decode step and transformer block (>= 0).",
    "architecture": "A catalogue architecture name or an explicit architecture object.",
    "dtype": "Weight dtype (`fp32`, `fp16`, `bf16`, `int8`, `int4`, ...).",
    "compute_dtype": "Dtype the arithmetic runs in (default: the weight dtype; fp16 for "
    "int8/int4 weights).",
    "granularity": "Split points: after every transformer `block`, or every `sublayer`.",
    "class": "The request class's name (no `/`).",
    "client": "The client's name.",
    "model": "The model's name.",
    "prompt_tokens": "Prompt length, tokens.",
    "output_tokens": "Generated tokens.",
    "count": "Number of requests of this class (one each); excludes `rate`.",
    "rate": "The class's rate (its weight in the objective); excludes `count`.",
    "base": "A catalogue entry this object starts from (its fields override the entry's).",
    "peak_flops": "Dense peak FLOP/s (or integer OP/s) per dtype.",
    "memory_bandwidth_bytes_per_s": "Memory bandwidth, bytes/s.",
    "scenario/explicit_device/memory_bytes": "Device (or unified) memory, bytes.",
    "matmul_peak": "The `peak_flops` entry fp16 matrix products run at.",
    "dequant_pass": "Whether quantised weights are expanded to fp16 in a separate pass.",
    "scenario/explicit_device/kind": "Device kind: `datacenter-gpu`, `consumer-gpu`, "
    "`laptop`, `phone`, ... (selects an engine's figures).",
    "uplink_bit_per_s": "Achieved client-to-server bandwidth, bit/s.",
    "downlink_bit_per_s": "Achieved server-to-client bandwidth, bit/s.",
    "one_way_delay_s": "One-way delay, seconds (charged once per message).",
    "family": "Model family for reports (`GPT-2`, `Llama`, ...).",
    "scenario/explicit_architecture/kind": "`decoder`, `encoder` or `encoder-decoder`.",
    "scenario/explicit_architecture/hidden_size": "d: the residual-stream width.",
    "num_layers": "Transformer blocks (the encoder's for encoder-decoder models).",
    "num_decoder_layers": "Decoder blocks of an encoder-decoder model.",
    "num_heads": "Attention (query) heads.",
    "num_kv_heads": "Key/value heads (grouped-query attention); default `num_heads`.",
    "head_dim": "Per-head width; default hidden_size / num_heads.",
    "intermediate_size": "MLP inner width.",
    "vocab_size": "Vocabulary size (0 for vision models).",
    "mlp": "`gelu` (two matrices) or `gated` (SwiGLU: three matrices).",
    "norm": "`layernorm` (weight + bias) or `rmsnorm` (weight only).",
    "qkv_bias": "Whether the Q, K, V projections have biases.",
    "out_bias": "Whether the attention output projection has a bias.",
    "mlp_bias": "Whether the MLP matrices have biases.",
    "tie_embeddings": "Whether the LM head shares the token-embedding table.",
    "position_embeddings": "Rows of a learned position table (0 for RoPE/sinusoidal).",
    "token_type_embeddings": "Rows of a segment table (BERT).",
    "embedding_norm": "Whether a norm follows the embeddings (BERT).",
    "final_norm": "Whether a norm precedes the head.",
    "embed_proj_dim": "Token-embedding width where it differs from d (0 = d).",
    "head": "`lm`, `classifier` (pooler + classifier) or none.",
    "num_labels": "Classes of a classifier head.",
    "image_size": "Vision input: image side, pixels (ViT).",
    "patch_size": "Vision input: patch side, pixels (ViT).",
    "channels": "Vision input: colour channels (ViT).",
    "max_context": "Longest sequence the model accepts, tokens.",
    "published_params": "Total parameters as published (see `params_source`).",
    "params_source": "Where `published_params` comes from.",
    # -- splitopt-profile ----------------------------------------------------------------
    "profile/document/device": "The device it was measured on (free text).",
    "profile/document/engine": "The engine it was measured with (free text).",
    "profile/document/model": "The architecture it was measured for (catalogue name).",
    "profile/document/prompt_tokens": "Increasing prompt lengths (tokens, >= 1) of each "
    "layer's `prefill_s` columns.",
    "contexts": "Increasing contexts (tokens, >= 1) of each layer's `decode_step_s` columns.",
    "layers": "Per layer (transformer block or sublayer), its measured times and weights.",
    "prefill_s": "Seconds of the layer's prefill at each of `prompt_tokens`.",
    "decode_step_s": "Seconds of one decode step of the layer at each of `contexts`.",
    "weight_bytes": "Bytes of the layer's weights as measured.",
    "layers/name": "The layer's name.",
    "profiles/model": "The architecture it was measured for (catalogue name).",
    "profiles/device": "The device it was measured on (free text).",
    "profiles/engine": "The engine it was measured with (free text).",
    "profiles/prompt_tokens": "Increasing prompt lengths (tokens, >= 1) of each layer's "
    "`prefill_s` columns.",
    # -- splitopt-cluster ----------------------------------------------------------------
    "cluster/document/model": "The model: a preset, a catalogue architecture, or numbers.",
    "cluster/document/servers": "Server entries (each may expand to `count` servers).",
    "cluster/document/clients": "Clients: a bare id, or an entry that may expand to "
    "`count` clients.",
    "cluster/document/network": "Round trips between clients and servers.",
    "cluster/document/workload": "The offline request set and the online arrivals.",
    "cluster/document/name": "The cluster's name (default: the file name's stem).",
    "preset": "A named preset (splitopt/data/cluster_presets.json).",
    "cluster/model/architecture": "A catalogue architecture (decoders only); blocks, "
    "bytes and cache come from its configuration.",
    "cluster/model/dtype": "Weight dtype of the served blocks (`nf4`, `int4`, `int8`, "
    "`fp16`, `bf16`, `fp32`; default fp16).",
    "cache_dtype": "Dtype of the attention (KV) cache (default fp16).",
    "num_blocks": "L: identical transformer blocks of the model (1 .. 100,000).",
    "block_bytes": "s_m: server memory one hosted block takes, bytes.",
    "cache_bytes_per_token": "Attention-cache bytes one token takes per block, bytes.",
    "cluster/model/name": "The model's name.",
    "cluster/model/hidden_size": "d_model (0 = unknown; used only by PETALS's reserve).",
    "id": "The entry's id; with `count`, entries `id-0 .. id-(count-1)`.",
    "cluster/server/count": "Servers this entry expands to (1 .. 100,000 in all).",
    "cluster/client/count": "Clients this entry expands to (1 .. 100,000 in all).",
    "cluster/client/device": "A catalogue device the client runs blocks on (the joint "
    "model); its per-block times come from the roofline of the model's architecture. "
    "A client naming no device runs no block.",
    "cluster/client/memory_fraction": "Fraction of the client device's memory usable for "
    "its blocks and their cache, in (0, 1] (default 0.5, ours).",
    "cluster/client/efficiency": "Fraction of the client device's peaks reached, in (0, 1].",
    "cluster/client/l_in": "Design prompt length for the device's per-block times, tokens.",
    "cluster/client/l_out": "Design output length for the device's decode time, tokens.",
    "cluster/client/memory_bytes": "Usable client memory for its own blocks (weights plus "
    "their KV cache), bytes; 0 = runs no block.",
    "cluster/client/decode_s": "Client seconds per token per block to decode.",
    "cluster/client/prefill_s0": "Fixed part of the client's per-block prefill time, seconds.",
    "cluster/client/prefill_s1": "Per-prompt-token part of the client's per-block prefill "
    "time, seconds per token.",
    "site": "The site (string or whole number) of a `clustered` network.",
    "max_blocks": "Most blocks the server may host (null = no cap).",
    "cluster/server/device": "A catalogue device; its per-block times come from the "
    "roofline of the model's architecture.",
    "cluster/server/efficiency": "Fraction of the device's peaks reached, in (0, 1].",
    "memory_fraction": "Fraction of the device memory usable for blocks and cache, in (0, 1].",
    "l_in": "Prompt tokens.",
    "l_out": "Generated tokens.",
    "cluster/server/l_in": "Design prompt length for the device's per-block times, tokens.",
    "cluster/server/l_out": "Design output length for the device's decode time, tokens.",
    "cluster/server/memory_bytes": "M_j: usable server memory, bytes.",
    "decode_s": "τ_j: seconds per token per block to decode.",
    "prefill_s0": "Fixed part of the per-block prefill time, seconds.",
    "prefill_s1": "Per-prompt-token part of the per-block prefill time, seconds per token.",
    "forward_rps": "PETALS's measured forward throughput (requests/s); petals only.",
    "network_rps": "PETALS's measured network throughput (requests/s); petals only.",
    "inference_rps": "PETALS's measured inference throughput (requests/s); petals only.",
    "cluster/network/kind": "`explicit` (the round trips themselves), `matrix` (network "
    "RTTs plus overheads), `clustered` (site RTTs plus overheads) or `topology` (reserved).",
    "rtt_s": "t_cj: per-token round trip, clients × servers, seconds.",
    "prefill_rtt_s": "Fixed part of the prefill round trip, clients × servers, seconds.",
    "prefill_rtt_per_token_s": "Per-prompt-token part of the prefill round trip, "
    "clients × servers, seconds per token.",
    "server_rtt_s": "Raw network round trip (ping) between servers, servers × servers, s "
    "(optional): PETALS's router costs a server-to-server hop by it.",
    "network_rtt_s": "Raw network round trip (ping) PETALS's router sees, clients × "
    "servers, seconds (default `rtt_s`).",
    "cluster/network_matrix/network_rtt_s": "Network round trip (ping), clients × servers, "
    "seconds; the round trips are this plus the overheads.",
    "cluster/network_clustered/overheads": "Overheads added to the site RTTs: a preset or "
    "numbers (default 0).",
    "intra_rtt_s": "Network round trip inside a site, seconds.",
    "inter_rtt_s": "Network round trip between sites, seconds.",
    "intra_bandwidth_bps": "Link bandwidth inside a site, bit/s (recorded; the "
    "overheads already hold it).",
    "inter_bandwidth_bps": "Link bandwidth between sites, bit/s (recorded; the "
    "overheads already hold it).",
    "overheads": "Overheads added to the network RTT: a preset or numbers (default 0).",
    "token_s": "Overhead added to the per-token round trip, seconds.",
    "cluster/overheads/prefill_s": "Fixed overhead added to the prefill round trip, seconds.",
    "prefill_per_token_s": "Overhead per prompt token added to the prefill round trip, "
    "seconds per token.",
    "jobs": "The offline request set (all concurrent); also the classes the simulator draws from.",
    "cluster/job/client": "The issuing client: its id, or its 0-based index.",
    "cluster/job/count": "Requests this entry expands to (1 .. 1,000,000 in all).",
    "cluster/job/id": "The job's id; with `count`, `id-0 ..`.",
    "arrival_rate_per_s": "Poisson arrival rate of the online simulation, requests/s "
    "(default 0.1).",
    "num_requests": "Requests per simulated run (1 .. 10,000,000; default 100).",
    "seed": "Seed of the first simulated run; run k uses seed + k (default 0; "
    "`simulate --seed` overrides it).",
    # -- splitopt-placement --------------------------------------------------------------
    "cluster": "The cluster's name.",
    "results": "One entry per algorithm run.",
    "algorithm": "The registered name of the placement algorithm.",
    "placement/result/status": "`optimal` (proved), `feasible`, `infeasible`, "
    "`time_limit` or `error`; `servers` is present for optimal and feasible.",
    "placement/result/options": "The algorithm's options.",
    "placement/result/message": "What the algorithm reports besides its answer (why it has "
    "none, a limit it hit); null where nothing.",
    "placement/result/servers": "Per server: its hosted block range (absent without a placement).",
    "routes": "One route per job: the server ids in processing order.",
    "metrics": "The evaluator's figures at writing time (never read back: re-scored).",
    "placement/server/id": "The server's id in the cluster.",
    "first": "a_j: first hosted block (1-based; 0 where the server hosts nothing).",
    "placement/server/count": "m_j: blocks hosted (0 = none).",
    "placement/metrics/bound": "A bound in seconds (see `bound_kind`); null where none.",
    "bound_kind": "`lower-objective` (a lower bound on Σ_r T_r) or `upper-per-token` "
    "(CG-BPRR's bound on each request's per-token decode time).",
    "placement/metrics/feasible": "Whether the evaluator accepts the placement and routes.",
    "reason": "Why the evaluator rejects the answer (null when it accepts it).",
    "objective_s": "Σ_r T_r: total request time over the jobs, seconds.",
    "mean_per_token_s": "Mean over jobs of T_r / l_out, seconds per token.",
    "memory_used_bytes": "Per server: memory used by blocks and cache, bytes.",
    "placement/metrics/jobs": "Per job: its times and the blocks each route server runs.",
    "placement/job/prefill_s": "Prefill time of the job on its route, seconds.",
    "placement/job/decode_s": "Decode time per token on its route, seconds.",
    "total_s": "T_r: the job's total time, seconds.",
    "per_token_s": "T_r / l_out, seconds per token.",
    "blocks": "Blocks each route server runs for the job.",
    # -- splitopt-simulation -------------------------------------------------------------
    "simulation/document/workload": "The simulated workload.",
    "classes": "The request classes each arrival draws from uniformly.",
    "simulation/class/client": "The class's client id.",
    "seeds": "The seeds of the runs (one run per seed and policy).",
    "authors_delays": "Whether the authors' allocation delays were added.",
    "simulation/document/semantics": "The simulation semantics: splitopt (the default), "
    "authors (the authors' MATLAB) or authors-delays (deprecated).",
    "policies": "Per policy: each figure's mean over seeds and its 95 % CI half-width "
    "(`<figure>_ci`, Student t).",
    "runs": "Per run (policy, seed): the figures of that run.",
    "policy": "The policy (placement+routing).",
    "simulation/run/seed": "The run's seed.",
    "null_reasons": "Why each null figure of this object is null (not a finite number).",
    "simulation/document/notes": "Per policy that left requests unserved: why "
    "(e.g. a block no server hosts).",
    "simulation/row/seeds": "Runs averaged (count).",
    "R": "Design concurrency of the cg-bp placement, requests.",
    "c": "Cache reservation of gbp-cr, requests per chain.",
    "chains": "Chains of a gbp-cr placement (count).",
    "slots": "Request slots over the chains of a gbp-cr placement (count).",
    "blocks_hosted": "Blocks hosted over all servers (count).",
}


def lookup(fmt: str, obj: str, field: str) -> str | None:
    """The description of ``field`` in object ``obj`` of format ``fmt``."""
    group = obj.split("_")[0]  # model_preset, model_explicit, ... share model's texts
    keys = (f"{fmt}/{obj}/{field}", f"{fmt}/{group}/{field}", f"{obj}/{field}", f"{fmt}/{field}")
    for key in (*keys, field):
        if key in FIELDS:
            return FIELDS[key]
    return None


def describe(fmt: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` with a ``description`` on every property that has none;
    a property without one raises :class:`KeyError` naming it."""
    schema = json.loads(json.dumps(schema))  # no shared sub-dicts: each gets its own text

    def walk(node: Any, obj: str) -> None:
        if isinstance(node, dict):
            props = node.get("properties", {})
            for name, prop in list(props.items()):
                if isinstance(prop, dict) and "description" not in prop:
                    text = lookup(fmt, obj, name)
                    if text is None:
                        raise KeyError(f"no description of {fmt}/{obj}/{name}")
                    # a copy: the builders share their type dicts between properties
                    props[name] = {"description": text, **prop}
            for key, value in node.items():
                if key == "$defs":
                    for d, sub in value.items():
                        walk(sub, d)
                elif key != "properties":
                    walk(value, obj)
                else:  # an inline object inside a property: described in its context
                    for name, sub in value.items():
                        walk(sub, name)
        elif isinstance(node, list):
            for v in node:
                walk(v, obj)

    walk(schema, "document")
    return dict(schema)


__all__ = ["FIELDS", "describe", "lookup"]
