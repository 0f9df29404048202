"""The pre-registered SplitLLM protocol (paper/PROTOCOL.md, issue 13): its
instance settings, the full-accounting columns and the tables built from them."""

from __future__ import annotations

import json
import math

import pytest

from splitopt.evaluate import score
from splitopt.experiments.instances import setting_instance
from splitopt.experiments.protocol import PROTOCOL_SETTINGS
from splitopt.experiments.runners import run_split
from splitopt.experiments.tables import (
    protocol_gain_table,
    protocol_headline_table,
    protocol_sweep_table,
)


def test_setting_p_has_no_budget_and_keeps_the_draws():
    p = setting_instance("paper-like", 1, "tiny")
    on = setting_instance("paper-like", 1, "tiny", memory=True)
    assert all(c.memory_budget_bytes is None for c in p.chains)
    assert all(c.memory_budget_bytes is not None for c in on.chains)
    # same requests (models, tokens, clients) - only budgets and memory-raised SLAs differ
    assert [r.meta for r in p.requests] == [r.meta for r in on.requests]
    assert p.work_unit == "FLOP"


def test_sla_anchor_server_is_slack_over_all_server_latency():
    p = setting_instance("paper-like", 1, "tiny", sla_anchor="server", slack=0.25)
    for c in p.chains:
        t_server = score(c, "S" * c.num_layers).latency_s
        assert math.isclose(c.sla_s, 1.25 * t_server, rel_tol=1e-12)
        assert score(c, "S" * c.num_layers).feasible  # no budget: server-only serves all
    with pytest.raises(ValueError):
        setting_instance("paper-like", 1, "tiny", sla_anchor="middle")


def test_prefill_only_and_seconds():
    p = setting_instance("paper-like", 1, "tiny", decode=False)
    assert all(r.meta["output_tokens"] == 0 for r in p.requests)
    assert setting_instance("paper-like", 1, "tiny", work_unit="s").work_unit == "s"


def _rows():
    rows = []
    for setting in ("P", "memory-on"):
        _, _, kw = PROTOCOL_SETTINGS[setting]
        opts = json.dumps({"setting": kw}, sort_keys=True)
        for g in ("BERT", "all"):
            row = run_split("paper-like", 2, "tiny", "dp", "model_family", g, options=opts)
            rows.append({**row, "setting": setting, "group": g, "seed": 2, "size": "tiny"})
    return rows


def test_accounting_columns_and_tables():
    rows = _rows()
    for r in rows:
        assert r["only_greedy"] + r["common_greedy"] == r["feasible"]
        assert r["only_base_greedy"] + r["common_greedy"] == r["feasible_greedy"]
        assert math.isclose(
            r["charged_reduction"], 1 - r["charged_work"] / r["charged_server_only"], rel_tol=1e-12
        )
        # the DP never charges more than server-only: it serves at least as much
        assert r["charged_work"] <= r["charged_server_only"] * (1 + 1e-9)
    t = protocol_headline_table(rows)
    p_all = next(r for r in rows if r["setting"] == "P" and r["group"] == "all")
    served = (
        f"{p_all['feasible']}/{p_all['feasible_greedy']}/"
        f"{p_all['requests'] - p_all['server_only_infeasible']} of {p_all['requests']}; "
        f"{p_all['only_greedy']}"
    )
    assert [row[1] for row in t.rows if row[0] == "all families"] == [served]
    assert "secondary summary" in t.note
    assert len(protocol_gain_table(rows).rows) == 2
    sweeps = protocol_sweep_table(rows)
    assert [r[1] for r in sweeps.rows] == ["no budget (P)", "budgets on"]
