"""Measured profiles: per-layer times of one model on one device, instead of the roofline.

A :class:`Profile` holds, for each of the L layers of a model (the chain the
cost model builds at a granularity), the measured seconds of

* the prefill of n prompt tokens, at a grid of prompt lengths; and
* one decode step at context c (tokens already in the KV cache), at a grid of
  contexts,

plus the bytes of each layer's weights. Between grid points times are
interpolated linearly; beyond the last point they are extended along the last
segment (below the first, along the first segment, floored at 0) - our
assumption, as attention grows linearly in n and c for decode and close to
linearly for prefill at these lengths. A request with prompt n and g output
tokens costs prefill(n) + Σ_{t=1..g-1} step(n + t) per layer.

Files: ``splitopt-profile`` (:mod:`splitopt.formats.profile_file`); a scenario
names them per server or client (``"profiles": [FILE, ...]``), and a profile
replaces the roofline for the (model, dtype, granularity) it was measured for.
``splitopt profile`` measures one with PyTorch (optional ``profile`` extra).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np

from splitopt.errors import SpecError
from splitopt.scenario import rules


def _extrap(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Piecewise-linear f(x) through (xp, fp), extended along the end segments, >= 0."""
    x = np.asarray(x, dtype=np.float64)
    y = np.interp(x, xp, fp)
    lo_slope = (fp[1] - fp[0]) / (xp[1] - xp[0])
    hi_slope = (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    y = np.where(x < xp[0], fp[0] + (x - xp[0]) * lo_slope, y)
    y = np.where(x > xp[-1], fp[-1] + (x - xp[-1]) * hi_slope, y)
    return np.maximum(y, 0.0)


@dataclass(frozen=True, eq=False)
class Profile:
    """Measured per-layer times of ``model`` (``dtype``, ``granularity``) on a device.

    Attributes:
        name: a label.
        model: architecture name it was measured for (catalogue name).
        dtype: weight dtype; granularity: ``"block"`` or ``"sublayer"``.
        prompt_tokens: increasing prompt lengths (>= 1) of ``prefill_s``'s columns.
        contexts: increasing contexts (>= 1) of ``decode_step_s``'s columns.
        prefill_s: (L, len(prompt_tokens)) seconds per layer.
        decode_step_s: (L, len(contexts)) seconds per layer and decode step.
        weight_bytes: (L,) bytes of each layer's weights as measured.
        device, engine, source, notes: where and how it was measured.
    """

    name: str
    model: str
    dtype: str
    granularity: str
    prompt_tokens: tuple[int, ...]
    contexts: tuple[int, ...]
    prefill_s: np.ndarray
    decode_step_s: np.ndarray
    weight_bytes: np.ndarray
    device: str = ""
    engine: str = ""
    source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        rules.typed_fields(self)
        s = object.__setattr__
        for key in ("prompt_tokens", "contexts"):
            grid = tuple(getattr(self, key))
            if len(grid) < 2:
                raise SpecError([key], "needs at least 2 points")
            for i, v in enumerate(grid):
                rules.integer(v, [key, i])
                rules.at_least(v, 1, [key, i])
            if any(b <= a for a, b in itertools.pairwise(grid)):
                raise SpecError([key], "must be strictly increasing")
            s(self, key, grid)
        L = len(self.weight_bytes)
        if L < 1:
            raise SpecError(["layers"], "needs at least one layer")
        for key, cols in (
            ("prefill_s", len(self.prompt_tokens)),
            ("decode_step_s", len(self.contexts)),
        ):
            a = np.array(getattr(self, key), dtype=np.float64)
            if a.shape != (L, cols):
                raise SpecError([key], f"must be {L} layers x {cols} values, got shape {a.shape}")
            if not np.all(np.isfinite(a)) or np.any(a < 0):
                raise SpecError([key], "times must be finite and non-negative")
            a.setflags(write=False)
            s(self, key, a)
        wb = np.array(self.weight_bytes, dtype=np.float64)
        if not np.all(np.isfinite(wb)) or np.any(wb < 0):
            raise SpecError(["weight_bytes"], "must be finite and non-negative")
        wb.setflags(write=False)
        s(self, "weight_bytes", wb)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name))
            if isinstance(getattr(self, f.name), np.ndarray)
            else getattr(self, f.name) == getattr(other, f.name)
            for f in dataclasses.fields(self)
        )

    def __hash__(self) -> int:
        return hash((self.name, self.model, self.dtype, self.granularity, self.prompt_tokens))

    @property
    def num_layers(self) -> int:
        return int(self.weight_bytes.size)

    def matches(self, model: str, dtype: str, granularity: str) -> bool:
        return (self.model, self.dtype, self.granularity) == (model, dtype, granularity)

    def phase_times(
        self, prompt_tokens: np.ndarray, output_tokens: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(prefill_s, decode_s) per class and layer (K, L) for prompts n and outputs g."""
        n = np.asarray(prompt_tokens, dtype=np.float64).reshape(-1)
        g = np.asarray(output_tokens, dtype=np.float64).reshape(-1)
        xp_n = np.array(self.prompt_tokens, dtype=np.float64)
        xp_c = np.array(self.contexts, dtype=np.float64)
        L = self.num_layers
        pre = np.empty((n.size, L))
        dec = np.zeros((n.size, L))
        for k in range(n.size):
            for layer in range(L):
                pre[k, layer] = _extrap(n[k], xp_n, self.prefill_s[layer])
            steps = int(max(g[k] - 1, 0))
            if steps:
                ctx = n[k] + np.arange(1, steps + 1, dtype=np.float64)
                for layer in range(L):
                    dec[k, layer] = _extrap(ctx, xp_c, self.decode_step_s[layer]).sum()
        return pre, dec

    def device_time(self, prompt_tokens: np.ndarray, output_tokens: np.ndarray) -> np.ndarray:
        """Seconds per class and layer for the whole request (K, L)."""
        pre, dec = self.phase_times(prompt_tokens, output_tokens)
        return pre + dec
