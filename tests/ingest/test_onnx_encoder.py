"""The encoder on ONNX Runtime: cache keys and locking (no model), then both encoders on a tiny corpus (real model)."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ingest import onnx_export
from ingest.errors import ConfigError
from ingest.onnx_export import OnnxCacheError, QuantConfig, cache_root, ensure_onnx, quant_config_for_cpu, variant_key

FP = "sha256:" + "ab" * 32
TEXTS = [
    "About 260,000 advanced chips were pledged at the APEC summit in Gyeongju.",
    "Seoul",
    "The AI factory will run on the Vera Rubin platform. " * 12,  # long: padded against the short ones
    "",
    "엔비디아는 한국에 GPU 26만 장을 공급한다.",
    "Who signed the memorandum of understanding, and when?",
]


# -- quantisation config from the CPU ------------------------------------------------------------------------


def test_cpu_flags_read_the_flags_line():
    info = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n"
    assert onnx_export.cpu_flags(info) == {"fpu", "sse2", "avx2", "avx512f", "avx512_vnni"}
    assert onnx_export.cpu_flags("no flags here") == frozenset()


@pytest.mark.parametrize(("flags", "machine", "name", "reduce_range"), [
    ({"avx2", "avx512f", "avx512_vnni"}, "x86_64", "vnni", False),
    ({"avx2", "avx_vnni"}, "x86_64", "vnni", False),
    ({"avx2", "amx_int8", "amx_tile"}, "x86_64", "vnni", False),
    ({"avx2", "fma"}, "x86_64", "avx2", True),
    (set(), "x86_64", "avx2", True),  # flags unreadable: the config that is safe everywhere
    ({"asimd", "asimddp"}, "aarch64", "arm64", False),
])
def test_quant_config_follows_the_cpu(flags, machine, name, reduce_range):
    q = quant_config_for_cpu(frozenset(flags), machine)
    assert (q.name, q.reduce_range, q.per_channel) == (name, reduce_range, True)


# -- cache location and keys ---------------------------------------------------------------------------------


def test_cache_root_prefers_the_setting_then_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root(tmp_path / "mine") == tmp_path / "mine"
    assert cache_root(None) == tmp_path / "xdg" / "partnerqa"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_root("") == Path.home() / ".cache" / "partnerqa"


def test_variant_key_names_weights_variant_and_quantisation():
    vnni, avx2 = QuantConfig("vnni", reduce_range=False), QuantConfig("avx2")
    keys = {variant_key(FP, "fp32", None), variant_key("sha256:" + "cd" * 32, "fp32", None),
            variant_key(FP, "int8", vnni), variant_key(FP, "int8", avx2)}
    assert len(keys) == 4
    assert variant_key(FP, "fp32", None) == variant_key(FP, "fp32", vnni)  # fp32 ignores the quantisation
    assert variant_key(FP, "int8", avx2).startswith("int8-avx2-pc1-rr1-")
    with pytest.raises(ValueError, match="variant"):
        variant_key(FP, "fp16", None)


# -- export: once, atomic, locked ----------------------------------------------------------------------------


def _fake_export(calls: list[str], delay: float = 0.0, fail: bool = False):
    def export(model_dir: Path, out: Path) -> None:
        calls.append(str(out))
        out.write_bytes(b"half")
        time.sleep(delay)
        if fail:
            raise RuntimeError("exporter crashed")
        out.write_bytes(b"onnx model bytes")

    return export


def test_concurrent_starts_export_once_and_all_get_the_whole_file(tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(onnx_export, "export_fp32", _fake_export(calls, delay=0.3))
    paths, errors = [], []

    def start():
        try:
            paths.append(ensure_onnx(tmp_path, FP, "fp32", cache_dir=tmp_path / "cache"))
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(calls) == 1
    assert len(set(paths)) == 1 and paths[0].read_bytes() == b"onnx model bytes"
    meta = json.loads((paths[0].parent / "meta.json").read_text())
    assert meta["weights_fingerprint"] == FP and meta["variant"] == "fp32"
    # Cached: a later start exports nothing.
    assert ensure_onnx(tmp_path, FP, "fp32", cache_dir=tmp_path / "cache") == paths[0] and len(calls) == 1


def test_a_failed_export_leaves_no_file_behind(tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(onnx_export, "export_fp32", _fake_export(calls, fail=True))
    with pytest.raises(RuntimeError, match="crashed"):
        ensure_onnx(tmp_path, FP, "fp32", cache_dir=tmp_path / "cache")
    folder = next((tmp_path / "cache" / "onnx").iterdir())
    assert sorted(p.name for p in folder.iterdir()) == [".lock"]  # no model.onnx, no temporary file
    monkeypatch.setattr(onnx_export, "export_fp32", _fake_export(calls))
    assert ensure_onnx(tmp_path, FP, "fp32", cache_dir=tmp_path / "cache").read_bytes() == b"onnx model bytes"


def test_a_model_the_fusion_cannot_read_keeps_its_unfused_graph(tmp_path):
    graph, out = tmp_path / "graph.onnx", tmp_path / "fused.onnx"
    graph.write_bytes(b"not an onnx graph")
    assert onnx_export.fuse_bert(tmp_path, graph, out) is False  # no config.json: no head count to fuse with
    (tmp_path / "config.json").write_text('{"num_attention_heads": 12, "hidden_size": 384}')
    assert onnx_export.fuse_bert(tmp_path, graph, out) is False  # an unreadable graph
    assert not out.exists() and graph.read_bytes() == b"not an onnx graph"


def test_an_unwritable_cache_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # works as root too, unlike chmod
    with pytest.raises(OnnxCacheError, match="PARTNERQA_CACHE_DIR"):
        ensure_onnx(tmp_path, FP, "fp32", cache_dir=blocker / "cache")


# -- settings and the factory --------------------------------------------------------------------------------


def test_settings_read_the_encoder_and_refuse_an_unknown_one():
    from ingest.settings import Settings

    assert Settings().encoder == "onnx"
    assert Settings.from_env({"PARTNERQA_ENCODER": "onnx-int8", "PARTNERQA_CACHE_DIR": "/x"}).encoder == "onnx-int8"
    assert Settings.from_env({"PARTNERQA_ENCODER": "onnx-int8"}, encoder="torch").encoder == "torch"
    with pytest.raises(ConfigError, match="encoder"):
        Settings.from_env({"PARTNERQA_ENCODER": "tensorrt"})


def test_make_embedder_refuses_an_unknown_encoder():
    from ingest.embedder import make_embedder

    with pytest.raises(ConfigError, match="encoder must be one of"):
        make_embedder(encoder="openvino")


def test_missing_onnxruntime_names_the_package(monkeypatch, tmp_path):
    from ingest.onnx_embedder import OnnxEmbedder

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match="pip install"):
        OnnxEmbedder(cache_dir=tmp_path).warm_up()


def test_cli_takes_the_encoder_flag():
    from ui.cli import _parse

    args = _parse(["--encoder", "torch", "ask", "how many chips?"])
    assert args.encoder == "torch" and args.command == "ask"
    args = _parse(["--encoder=onnx-int8", "eval", "--limit", "2"])
    assert args.encoder == "onnx-int8" and args.rest == ["--limit", "2"]


# -- the real model: both encoders on a tiny corpus ----------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.mark.model
def test_onnx_passes_hold_at_most_forward_batch_texts_with_the_same_vectors(onnx_cache):
    from ingest.onnx_embedder import FORWARD_BATCH, OnnxEmbedder

    wide, one = OnnxEmbedder(cache_dir=onnx_cache, batch_size=16), OnnxEmbedder(cache_dir=onnx_cache, batch_size=1)
    assert wide.batch_size == FORWARD_BATCH and one.batch_size == 1
    np.testing.assert_allclose(wide.embed(TEXTS), one.embed(TEXTS), rtol=0, atol=1e-5)


@pytest.mark.model
def test_fp32_onnx_gives_torch_vectors_and_fingerprint(real_embedder, onnx_cache):
    from ingest.onnx_embedder import OnnxEmbedder

    emb = OnnxEmbedder(cache_dir=onnx_cache, batch_size=4)  # batch 4: the corpus spans two sorted batches
    ref, got = real_embedder.embed(TEXTS), emb.embed(TEXTS)
    assert got.shape == ref.shape == (len(TEXTS), 384) and got.dtype == np.float32 and got.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (got * ref).sum(axis=1).min() >= 0.99999
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4)
    # One text alone gets the vector it gets in a padded batch.
    np.testing.assert_allclose(emb.embed(TEXTS[1:2])[0], got[1], rtol=0, atol=1e-5)
    assert emb.fingerprint() == real_embedder.fingerprint() and emb.name == real_embedder.name
    assert emb.onnx_path.is_relative_to(onnx_cache)
    assert emb.embed([]).shape == (0, 384)
    # Exported with eager attention and fused: one Attention op per layer, no leftover export file.
    import onnx

    ops = [n.op_type for n in onnx.load(str(emb.onnx_path)).graph.node]
    assert ops.count("Attention") == 6 and "SkipLayerNormalization" in ops
    assert sorted(p.name for p in emb.onnx_path.parent.iterdir()) == [".lock", "meta.json", "model.onnx"]


@pytest.mark.model
def test_int8_onnx_is_close_and_has_its_own_fingerprint(real_embedder, onnx_cache):
    from ingest.onnx_embedder import OnnxEmbedder

    emb = OnnxEmbedder(cache_dir=onnx_cache, variant="int8")
    ref, got = real_embedder.embed(TEXTS), emb.embed(TEXTS)
    cos = (got * ref).sum(axis=1)
    assert cos.min() >= 0.95 and not np.allclose(got, ref, atol=1e-4)  # close, but not the same vectors
    assert emb.fingerprint() != real_embedder.fingerprint() and emb.fingerprint().startswith("sha256:")
    assert emb.onnx_path.parent.name.startswith(f"int8-{emb.quant.name}-")
    import onnx

    ops = {n.op_type for n in onnx.load(str(emb.onnx_path)).graph.node}
    assert "MatMulInteger" in ops and "Attention" not in ops  # quantised from the unfused graph
    # The top neighbour of each text among the others is the same as torch's.
    assert ((ref @ ref.T - 2 * np.eye(len(TEXTS))).argmax(1) == (got @ got.T - 2 * np.eye(len(TEXTS))).argmax(1)).all()


@pytest.mark.model
def test_unwritable_cache_falls_back_to_torch_with_a_warning(tmp_path, caplog):
    from ingest.embedder import SentenceTransformerEmbedder, make_embedder

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING, logger="ingest.embedder"):
        emb = make_embedder(encoder="onnx", cache_dir=blocker / "cache")
    assert isinstance(emb, SentenceTransformerEmbedder) and emb.encoder == "torch"
    assert "using torch instead" in caplog.text and "PARTNERQA_CACHE_DIR" in caplog.text


@pytest.mark.model
def test_indexes_record_the_encoder_fp32_and_torch_share_them_int8_does_not(tmp_path, real_embedder, onnx_cache):
    from ingest.errors import IndexMismatchError
    from ingest.onnx_embedder import OnnxEmbedder
    from ingest.pipeline import Ingestor
    from ingest.store import load_snapshot
    from rag.retriever import Retriever

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("About 260,000 advanced chips were pledged at the APEC summit.\n")
    (docs / "b.txt").write_text("The AI factory will run on the Vera Rubin platform in Seoul.\n")
    fp32 = OnnxEmbedder(cache_dir=onnx_cache)
    Ingestor(tmp_path / "idx", fp32).ingest([docs])
    assert load_snapshot(tmp_path / "idx").manifest["embedder"]["encoder"] == "onnx"
    # An fp32 ONNX index is searched by torch, with the same ranking.
    hits = Retriever.load(tmp_path / "idx", embedder=real_embedder).search("how many chips at APEC?", k=2)
    assert hits[0].doc_id == "a.txt"
    int8 = OnnxEmbedder(cache_dir=onnx_cache, variant="int8")
    Ingestor(tmp_path / "idx8", int8).ingest([docs])
    with pytest.raises(IndexMismatchError):
        Retriever.load(tmp_path / "idx8", embedder=real_embedder)
    assert Retriever.load(tmp_path / "idx8", embedder=int8).search("Vera Rubin platform", k=1)[0].doc_id == "b.txt"


def test_a_bad_model_folder_is_an_error_not_a_fallback(tmp_path):
    from ingest.embedder import make_embedder

    with pytest.raises(ConfigError, match="PARTNERQA_MODEL"):
        make_embedder(tmp_path / "nowhere", encoder="onnx", cache_dir=tmp_path)
