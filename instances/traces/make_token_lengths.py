"""Writes ``splitopt/data/token_lengths.json``: the (prompt, output) token pairs of every
request of the Azure LLM inference trace 2023 (this folder; CC BY 4.0, Patel et al.,
"Splitwise", ISCA 2024), per service, for the scenario families' ``token_lengths``.

    python instances/traces/make_token_lengths.py
"""

from __future__ import annotations

import json
from pathlib import Path

from splitopt.formats.trace_file import read_trace

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "splitopt/data/token_lengths.json"


def main() -> None:
    doc: dict = {
        "source": "Azure LLM inference trace 2023 (github.com/Azure/AzurePublicDataset, "
        "commit b469a113), CC BY 4.0; cite Patel et al., 'Splitwise: Efficient generative "
        "LLM inference using phase splitting', ISCA 2024. Every request's "
        "(ContextTokens, GeneratedTokens), in trace order.",
    }
    for key, name in (("azure-conv", "conv"), ("azure-code", "code")):
        tr = read_trace(HERE / f"AzureLLMInferenceTrace_{name}.csv")
        doc[key] = {
            "prompt": tr.context_tokens.tolist(),
            "output": tr.generated_tokens.tolist(),
        }
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
