"""The embedder's direct path for a few texts gives exactly what `encode` gives (real bundled model)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.model


def test_direct_path_matches_encode():
    from ingest.embedder import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder()
    emb.warm_up()
    assert emb._direct, "the bundled model should take the direct path"
    texts = ["Who signed the MOU in Gyeongju?", "Seoul", "About 260,000 advanced chips were agreed to at APEC. " * 4]
    fast = emb.embed(texts)
    emb._direct = False
    slow = emb.embed(texts)
    emb._direct = True
    assert fast.shape == slow.shape == (3, emb.dimension) and fast.dtype == np.float32 and fast.flags.c_contiguous
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    # One text alone gets the vector it gets in a padded batch.
    np.testing.assert_allclose(emb.embed(texts[1:2])[0], fast[1], rtol=0, atol=1e-5)
    # Past DIRECT_MAX texts, encode does the work: same vectors.
    many = texts * (emb.DIRECT_MAX // len(texts) + 1)
    np.testing.assert_allclose(emb.embed(many)[: len(texts)], fast, rtol=0, atol=1e-5)
