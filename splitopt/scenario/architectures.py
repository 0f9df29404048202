"""Catalogue of model architectures from their published configurations.

The entries are data (``splitopt/data/architectures.json``), checked by the
:class:`Architecture` constructor. Each :class:`Architecture` holds the numbers
of a model's configuration
(hidden size, layers, heads, key/value heads, MLP width, vocabulary, tying,
biases, norms) with the URL or citation it comes from, and the total
parameter count the authors publish (used by the tests to check the
catalogue: our count from the configuration must agree within 1 %).

:meth:`Architecture.layers` turns an architecture into a :class:`LayerTable`:
the chain of layers the split optimiser places (embedding, each transformer
block - or its attention and MLP sub-layers - and the final norm + LM head or
classifier), with per-layer coefficients the cost model
(:mod:`splitopt.scenario.costmodel`) multiplies by token counts:

* ``mm``: multiply-accumulates (MACs) of the layer's matrix products per token
  it processes (one MAC = 2 FLOPs);
* ``attn_width`` / ``cross_width``: heads x head_dim of self- / cross-attention
  (the n^2 attention term uses them);
* ``kv_elems``: key/value-cache elements per token (2 x kv_heads x head_dim,
  grouped-query heads counted), decoder side only;
* ``params``: parameters the layer holds (tied embedding tables are counted
  at every layer that uses them, so client memory is conservative).

Kinds of model: ``"decoder"`` (causal, prefill + decode), ``"encoder"``
(bidirectional, no decode: BERT, ViT) and ``"encoder-decoder"`` (the original
Transformer: a bidirectional encoder over the source, a causal decoder with
cross-attention generating the output).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from splitopt.errors import SpecError
from splitopt.scenario import catalogue, rules

KINDS: tuple[str, ...] = ("decoder", "encoder", "encoder-decoder")
GRANULARITIES: tuple[str, ...] = ("block", "sublayer")
MLPS: tuple[str, ...] = ("gelu", "gated")
NORMS: tuple[str, ...] = ("layernorm", "rmsnorm")
HEADS: tuple[str, ...] = ("lm", "classifier", "vision-classifier")
#: Integer fields that must be >= 1, and those that must be >= 0.
POSITIVE_INTS: tuple[str, ...] = (
    "hidden_size",
    "num_layers",
    "num_heads",
    "intermediate_size",
    "num_kv_heads",
    "head_dim",
    "channels",
    "max_context",
)
#: Largest ``num_layers`` / ``num_decoder_layers`` (our cap: the largest published
#: models have under 200 blocks; beyond it the cost model's arrays and the solvers'
#: memory grow without bound).
MAX_BLOCKS = 10_000
NONNEG_INTS: tuple[str, ...] = (
    "vocab_size",
    "num_decoder_layers",
    "position_embeddings",
    "token_type_embeddings",
    "embed_proj_dim",
    "num_labels",
    "image_size",
    "patch_size",
)


@dataclass(frozen=True)
class Architecture:
    """A transformer architecture (all sizes in elements, not bytes).

    Attributes:
        name: catalogue name (e.g. ``"llama-3-8b"``).
        family: model family for reports (``"GPT-2"``, ``"BERT"``, ``"Llama"``...).
        kind: ``"decoder"``, ``"encoder"`` or ``"encoder-decoder"``.
        hidden_size: d, the residual-stream width.
        num_layers: transformer blocks (the encoder's for encoder-decoder models).
        num_heads: attention (query) heads.
        intermediate_size: MLP inner width.
        vocab_size: vocabulary (0 for vision models).
        num_kv_heads: key/value heads (grouped-query attention); default ``num_heads``.
        head_dim: per-head width; default ``hidden_size // num_heads``.
        num_decoder_layers: decoder blocks of an encoder-decoder model.
        mlp: ``"gelu"`` (two matrices) or ``"gated"`` (SwiGLU: three matrices).
        norm: ``"layernorm"`` (weight + bias) or ``"rmsnorm"`` (weight only).
        qkv_bias, out_bias, mlp_bias: whether those projections carry biases.
        tie_embeddings: LM head shares the token-embedding table.
        position_embeddings: rows of a learned position table (0 for RoPE/sinusoidal).
        token_type_embeddings: rows of a segment table (BERT).
        embedding_norm: a norm right after the embeddings (BERT).
        final_norm: a norm before the head.
        embed_proj_dim: token-embedding width when it differs from d (OPT-350m's
            project_in / project_out); 0 when equal.
        head: ``"lm"``, ``"classifier"`` (BERT pooler + classifier) or
            ``"vision-classifier"`` (ViT norm + linear head).
        num_labels: classes of a classifier head.
        image_size, patch_size, channels: vision input (ViT); the sequence is
            (image_size / patch_size)^2 patches + 1 class token.
        max_context: longest sequence the model accepts (tokens).
        published_params: total parameters as published (see ``params_source``).
        params_source: where ``published_params`` comes from.
        source: the configuration's source (URL or citation).
        notes: simplifications worth knowing.
    """

    name: str
    family: str
    kind: str
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int
    num_kv_heads: int | None = None
    head_dim: int | None = None
    num_decoder_layers: int = 0
    mlp: str = "gelu"
    norm: str = "layernorm"
    qkv_bias: bool = True
    out_bias: bool = True
    mlp_bias: bool = True
    tie_embeddings: bool = True
    position_embeddings: int = 0
    token_type_embeddings: int = 0
    embedding_norm: bool = False
    final_norm: bool = True
    embed_proj_dim: int = 0
    head: str = "lm"
    num_labels: int = 0
    image_size: int = 0
    patch_size: int = 0
    channels: int = 3
    max_context: int = 2048
    published_params: float | None = None
    params_source: str = ""
    source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        s = object.__setattr__
        if self.num_kv_heads is None:
            s(self, "num_kv_heads", self.num_heads)
        if self.head_dim is None:
            s(self, "head_dim", self.hidden_size // max(self.num_heads, 1))
        self._check()
        if self.published_params is not None:
            s(self, "published_params", float(self.published_params))

    def _check(self) -> None:
        """The rules of an architecture; :class:`SpecError` names the field."""
        rules.typed_fields(self)
        for key, choices in (("kind", KINDS), ("mlp", MLPS), ("norm", NORMS), ("head", HEADS)):
            rules.choice(getattr(self, key), choices, key)
        for key in POSITIVE_INTS:
            rules.at_least(getattr(self, key), 1, key)
        for key in NONNEG_INTS:
            rules.at_least(getattr(self, key), 0, key)
        for key in ("num_layers", "num_decoder_layers"):
            n = getattr(self, key)
            if n > MAX_BLOCKS:
                raise SpecError([key], f"must be <= {MAX_BLOCKS:,} (our cap), got {rules.show(n)}")
        if self.num_heads % self.num_kv_heads:  # type: ignore[operator]
            raise SpecError(
                ["num_kv_heads"],
                f"num_heads ({self.num_heads}) must be a multiple of "
                f"num_kv_heads ({self.num_kv_heads})",
            )
        if self.kind == "encoder-decoder" and self.num_decoder_layers < 1:
            raise SpecError(["num_decoder_layers"], "an encoder-decoder model needs decoder layers")
        if self.kind != "encoder-decoder" and self.num_decoder_layers:
            raise SpecError(
                ["num_decoder_layers"], f"only for encoder-decoder models, not {self.kind!r}"
            )
        if self.vision and (self.image_size % max(self.patch_size, 1) or self.patch_size < 1):
            raise SpecError(["patch_size"], "image_size must be a positive multiple of patch_size")
        if self.vision and self.kind != "encoder":
            raise SpecError(["kind"], "vision models must be encoders")
        if not self.vision and self.vocab_size < 1:
            raise SpecError(["vocab_size"], "a text model needs vocab_size >= 1")
        if self.head in ("classifier", "vision-classifier") and self.num_labels < 1:
            raise SpecError(["num_labels"], f"a {self.head} head needs num_labels >= 1")
        if self.head != "lm" and self.kind != "encoder":
            raise SpecError(["head"], f"a {self.kind} model needs an 'lm' head")

    # -- derived sizes -------------------------------------------------------------

    @property
    def causal(self) -> bool:
        """Whether (self-)attention is causal on the generating side."""
        return self.kind != "encoder"

    @property
    def generates(self) -> bool:
        """Whether the model decodes tokens (prefill + decode steps)."""
        return self.kind != "encoder"

    @property
    def vision(self) -> bool:
        return self.image_size > 0

    @property
    def num_patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2 if self.vision else 0

    @property
    def fixed_tokens(self) -> int | None:
        """The sequence length of a vision model (patches + class token); ``None`` for text."""
        return self.num_patches + 1 if self.vision else None

    @property
    def input_bytes(self) -> float:
        """Bytes of a vision model's input image (uint8 pixels); 0 for text models."""
        return float(self.image_size**2 * self.channels) if self.vision else 0.0

    @property
    def attn_width(self) -> int:
        """Query heads x head_dim."""
        return int(self.num_heads * self.head_dim)  # type: ignore[operator]

    @property
    def kv_width(self) -> int:
        """Key/value heads x head_dim."""
        return int(self.num_kv_heads * self.head_dim)  # type: ignore[operator]

    @property
    def total_blocks(self) -> int:
        return self.num_layers + self.num_decoder_layers

    def _norm(self) -> int:
        return 2 * self.hidden_size if self.norm == "layernorm" else self.hidden_size

    def _attn(self) -> tuple[int, int]:
        """(parameters, MACs per token) of one self-attention sub-block (no norm)."""
        d, a, kv = self.hidden_size, self.attn_width, self.kv_width
        mm = d * a + 2 * d * kv + a * d
        bias = (a + 2 * kv if self.qkv_bias else 0) + (d if self.out_bias else 0)
        return mm + bias, mm

    def _mlp(self) -> tuple[int, int]:
        """(parameters, MACs per token) of one MLP sub-block (no norm)."""
        d, f = self.hidden_size, self.intermediate_size
        if self.mlp == "gated":
            mm = 3 * d * f
            bias = 2 * f + d if self.mlp_bias else 0
        else:
            mm = 2 * d * f
            bias = f + d if self.mlp_bias else 0
        return mm + bias, mm

    def embedding_table_params(self) -> int:
        """Parameters of the lookup tables (token, position, token-type): no matmul."""
        if self.vision:
            return (self.num_patches + 1) * self.hidden_size  # position table
        e = self.embed_proj_dim or self.hidden_size
        return (
            self.vocab_size * e
            + self.position_embeddings * self.hidden_size
            + self.token_type_embeddings * self.hidden_size
        )

    # -- the layer chain -----------------------------------------------------------

    def layers(self, granularity: str = "block") -> LayerTable:
        """The chain of layers at ``granularity`` (``"block"`` or ``"sublayer"``)."""
        if granularity not in GRANULARITIES:
            raise ValueError(
                f"unknown granularity {granularity!r}; valid: {', '.join(GRANULARITIES)}"
            )
        return _layer_table(self, granularity)

    def parameter_count(self) -> int:
        """Total parameters, tied tables counted once (from :meth:`layers`)."""
        t = self.layers("block")
        return int(t.params.sum() - t.duplicate_params)

    def replace(self, **changes: object) -> Architecture:
        """A copy with some fields changed (derived defaults recomputed when not given)."""
        values = dataclasses.asdict(self)
        if "num_heads" in changes or "hidden_size" in changes:
            values["head_dim"] = None
        mha = self.num_kv_heads == self.num_heads
        if "num_heads" in changes and "num_kv_heads" not in changes and mha:
            values["num_kv_heads"] = None
        values.update(changes)
        return Architecture(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LayerTable:
    """The per-layer coefficients of one architecture at one granularity.

    All arrays have one entry per layer (length L) unless marked per boundary
    (length L + 1). Counts are elements or MACs, never bytes: the cost model
    applies dtypes.

    Attributes:
        names: layer names (``"embed"``, ``"block3"``, ``"block3.attn"``, ``"head"``...).
        side: 0 for encoder-side layers (run once over the n source tokens, idle
            in decode), 1 for the generating side (every decode step).
        last_only: the layer processes only the last token in prefill (LM head,
            classifier on the class token).
        mm: MACs of matrix products per processed token.
        attn_width: heads x head_dim of self-attention (0: none).
        cross_width: heads x head_dim of cross-attention (0: none).
        cross_kv_mm: MACs per *source* token of cross-attention key/value projections.
        kv_elems: KV-cache elements per generating-side token (self-attention).
        cross_kv_elems: cached cross-attention K/V elements per source token.
        params: parameters the layer holds.
        fixed_reads: parameters read in full on every pass over the layer (all of
            them for a matmul layer; only a projection for an embedding lookup).
        gather: parameters gathered per processed token by a table lookup.
        duplicate_params: parameters counted at more than one layer (tied tables).
        bnd_ids_per_n: token ids per source token crossing each boundary in prefill (L + 1).
        bnd_hidden_per_n: hidden vectors per source token crossing each boundary (L + 1).
        bnd_hidden_const: hidden vectors independent of n crossing each boundary (L + 1).
        bnd_const_bytes: fixed bytes crossing each boundary in prefill (ids of a
            start token, an image, a label) (L + 1).
        bnd_step_hidden: hidden vectors crossing each boundary per decode step (L + 1).
        bnd_step_bytes: fixed bytes crossing each boundary per decode step (a token id) (L + 1).
    """

    names: tuple[str, ...]
    hidden_size: int
    side: np.ndarray
    last_only: np.ndarray
    mm: np.ndarray
    attn_width: np.ndarray
    cross_width: np.ndarray
    cross_kv_mm: np.ndarray
    kv_elems: np.ndarray
    cross_kv_elems: np.ndarray
    params: np.ndarray
    fixed_reads: np.ndarray
    gather: np.ndarray
    duplicate_params: float
    bnd_ids_per_n: np.ndarray
    bnd_hidden_per_n: np.ndarray
    bnd_hidden_const: np.ndarray
    bnd_const_bytes: np.ndarray
    bnd_step_hidden: np.ndarray
    bnd_step_bytes: np.ndarray
    kind: str = "decoder"
    causal: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def num_layers(self) -> int:
        return len(self.names)


#: Bytes of one token id crossing a network (int32).
TOKEN_ID_BYTES = 4.0
#: Bytes of a classifier's answer (one int32 label).
LABEL_BYTES = 4.0


def _layer_table(a: Architecture, granularity: str) -> LayerTable:
    rows: list[dict] = []
    d = a.hidden_size
    norm = a._norm()
    attn_p, attn_mm = a._attn()
    mlp_p, mlp_mm = a._mlp()
    e = a.embed_proj_dim or d
    dup = 0.0

    def row(name: str, side: int, **kw: float) -> None:
        r = {
            "name": name,
            "side": side,
            "last_only": 0.0,
            "mm": 0.0,
            "attn": 0.0,
            "cross": 0.0,
            "cross_kv_mm": 0.0,
            "kv": 0.0,
            "cross_kv": 0.0,
            "params": 0.0,
            "fixed_reads": None,
            "gather": 0.0,
        }
        r.update(kw)
        if r["fixed_reads"] is None:
            r["fixed_reads"] = r["params"]
        rows.append(r)

    enc_dec = a.kind == "encoder-decoder"
    gen_side = 0 if a.kind == "encoder" else 1
    # Embedding.
    if a.vision:
        patch_dim = a.channels * a.patch_size**2
        row(
            "embed",
            0,
            mm=patch_dim * d,
            params=patch_dim * d + d + d + (a.num_patches + 1) * d,
        )
    else:
        table = a.vocab_size * e
        p = (
            table
            + a.position_embeddings * d
            + a.token_type_embeddings * d
            + (norm if a.embedding_norm else 0)
        )
        gather = e + (d if a.position_embeddings else 0) + (d if a.token_type_embeddings else 0)
        proj = e * d if a.embed_proj_dim else 0
        row(
            "embed",
            0 if enc_dec else gen_side,
            mm=proj,
            params=p + proj,
            fixed_reads=proj,
            gather=gather,
        )
    kv_self = 2 * a.kv_width if a.generates else 0

    def block(prefix: str, side: int, cross: bool) -> None:
        kv = kv_self if side == 1 else 0
        cw = a.attn_width if cross else 0
        cross_p = (attn_p + norm) if cross else 0
        cross_mm = 2 * d * a.attn_width if cross else 0  # q and o on the decoder tokens
        ckv_mm = 2 * d * a.kv_width if cross else 0
        ckv = 2 * a.kv_width if cross else 0
        if granularity == "block":
            row(
                prefix,
                side,
                mm=attn_mm + mlp_mm + cross_mm,
                attn=a.attn_width,
                cross=cw,
                cross_kv_mm=ckv_mm,
                kv=kv,
                cross_kv=ckv,
                params=attn_p + mlp_p + 2 * norm + cross_p,
            )
        else:
            row(
                prefix + ".attn",
                side,
                mm=attn_mm + cross_mm,
                attn=a.attn_width,
                cross=cw,
                cross_kv_mm=ckv_mm,
                kv=kv,
                cross_kv=ckv,
                params=attn_p + norm + cross_p,
            )
            row(prefix + ".mlp", side, mm=mlp_mm, params=mlp_p + norm)

    n_enc = a.num_layers
    for i in range(n_enc):
        block(f"enc{i}" if enc_dec else f"block{i}", 0 if enc_dec else gen_side, False)
    dec_embed_index = -1
    if enc_dec:
        dec_embed_index = len(rows)
        # The decoder's token embedding shares the encoder's table (Vaswani et al. 2017).
        row("dec_embed", 1, params=a.vocab_size * d, fixed_reads=0.0, gather=d)
        dup += a.vocab_size * d
        for i in range(a.num_decoder_layers):
            block(f"dec{i}", 1, True)
    # Head.
    fn = norm if a.final_norm else 0
    if a.head == "lm":
        head_mm = a.vocab_size * e + (d * e if a.embed_proj_dim else 0)
        hp = fn + a.vocab_size * e + (d * e if a.embed_proj_dim else 0)
        if a.tie_embeddings:
            dup += a.vocab_size * e
        row("head", gen_side, last_only=1.0, mm=head_mm, params=hp)
    elif a.head == "classifier":
        mm = d * d + d * a.num_labels
        row("head", gen_side, last_only=1.0, mm=mm, params=fn + mm + d + a.num_labels)
    else:  # vision-classifier
        mm = d * a.num_labels
        row("head", gen_side, last_only=1.0, mm=mm, params=fn + mm + a.num_labels)

    L = len(rows)

    def col(key: str) -> np.ndarray:
        arr = np.array([r[key] for r in rows], dtype=np.float64)
        arr.setflags(write=False)
        return arr

    # Boundaries: what crosses b (just before layer b; b = L is the output).
    ids_n = np.zeros(L + 1)
    hid_n = np.zeros(L + 1)
    hid_c = np.zeros(L + 1)
    const = np.zeros(L + 1)
    step_h = np.zeros(L + 1)
    step_b = np.zeros(L + 1)
    if a.vision:
        const[0] = a.input_bytes
    else:
        ids_n[0] = 1.0
    if a.kind == "encoder":
        hid_n[1:L] = 1.0
        const[L] = LABEL_BYTES
    elif a.kind == "decoder":
        hid_n[1:L] = 1.0
        const[L] = TOKEN_ID_BYTES  # the first generated token
        step_b[0] = TOKEN_ID_BYTES  # each decode step: the fed-back token ...
        step_h[1:L] = 1.0  # ... its hidden state ...
        step_b[L] = TOKEN_ID_BYTES  # ... and the token it produces
    else:  # encoder-decoder
        j = dec_embed_index
        hid_n[1 : j + 1] = 1.0  # encoder states (the memory) up to the decoder embedding
        const[j] = TOKEN_ID_BYTES  # plus the start token entering the decoder
        hid_n[j + 1 : L] = 1.0  # the memory travels with the decoder states ...
        hid_c[j + 1 : L] = 1.0  # ... plus the start token's state
        const[L] = TOKEN_ID_BYTES
        step_b[0 : j + 1] = TOKEN_ID_BYTES  # the fed-back token passes the idle encoder
        step_h[j + 1 : L] = 1.0
        step_b[L] = TOKEN_ID_BYTES
    bnd = []
    for arr in (ids_n, hid_n, hid_c, const, step_h, step_b):
        arr.setflags(write=False)
        bnd.append(arr)
    return LayerTable(
        names=tuple(r["name"] for r in rows),
        hidden_size=d,
        side=col("side"),
        last_only=col("last_only"),
        mm=col("mm"),
        attn_width=col("attn"),
        cross_width=col("cross"),
        cross_kv_mm=col("cross_kv_mm"),
        kv_elems=col("kv"),
        cross_kv_elems=col("cross_kv"),
        params=col("params"),
        fixed_reads=col("fixed_reads"),
        gather=col("gather"),
        duplicate_params=float(dup),
        bnd_ids_per_n=bnd[0],
        bnd_hidden_per_n=bnd[1],
        bnd_hidden_const=bnd[2],
        bnd_const_bytes=bnd[3],
        bnd_step_hidden=bnd[4],
        bnd_step_bytes=bnd[5],
        kind=a.kind,
        causal=a.causal,
    )


#: name -> Architecture, from ``splitopt/data/architectures.json`` (configuration
#: values are those of the cited config files; published totals quoted with their source)
ARCHITECTURES: dict[str, Architecture] = catalogue.load("architectures", Architecture)


def get_architecture(name: str) -> Architecture:
    """The catalogue entry ``name``; :class:`KeyError` lists the valid names."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise KeyError(
            f"unknown architecture {name!r}; valid architectures: {', '.join(ARCHITECTURES)}"
        ) from None
