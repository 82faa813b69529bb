"""What the bench measures on: the corpora (seeds/, the Apple 10-Q PDFs, synthetic ones) and their queries.

Synthetic documents are seeded, so a corpus of n chunks and its queries are the same on
every run; their vocabulary mixes common words, the domain's words and made-up tail words
so BM25 and the embedder see a realistic spread.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


SEC_DOCS = REPO.parent / "shared" / "bench" / "sec10q_aapl" / "docs"


SEEDS = REPO / "seeds"


SEEDS_QUESTION = "About how many advanced chips were agreed to at the APEC event?"


K = 5  # passages per retrieval, for every system


ANSWER_K = 8  # passages an answer is built from (the Answerer's default)


STOCK_SUFFIXES = (".txt", ".md", ".pdf")


_COMMON = """the of and to in a is that for it as was with be by on not this are or from at which but have
an they were has been would more will if no when what so can who about other into time only new some could
these two may first then any like now over such even most made after also many before must through back years
where much way well down should because each just those people how too little state good very make world still
own see work long get here between both life being under never day same another know while last might great
old year off come since against go came right used take three part during without again place around however
small found public every number country group system program report market plan support policy process level
result national increase company service development government level rate data lead share growth""".split()  # noqa: SIM905


_DOMAIN = """chip chips semiconductor memory wafer foundry fab gpu accelerator cluster datacenter supercomputer
server rack cooling power grid energy nuclear reactor battery robot robotics autonomous vehicle factory
manufacturing supply chain export license tariff investment billion million percent revenue quarter fiscal net
sales margin income tax dividend shares cash debt agreement partnership ministry president summit minister
minister alliance cooperation research laboratory university startup talent engineer model training inference
network telecom cloud software platform architecture transistor bandwidth latency throughput token language
vision speech sensor satellite quantum biotech pharmaceutical shipbuilding steel automotive display battery
iphone mac ipad services wearables europe china japan korea americas pacific""".split()  # noqa: SIM905


_SYLLABLES = ("ka", "ri", "to", "mu", "sen", "dor", "vel", "an", "gi", "pho", "lux", "tra", "ne", "bo", "quin", "sa")


def _tail_word(i: int) -> str:
    """A made-up proper name for rank i of the long tail (distinct for distinct i)."""
    parts = []
    i += 16 * 16  # at least three syllables
    while i:
        i, r = divmod(i, len(_SYLLABLES))
        parts.append(_SYLLABLES[r])
    return "".join(parts).capitalize()


@dataclass(frozen=True)
class SyntheticDoc:
    """One generated document: `doc_id` is also its file name."""

    doc_id: str
    text: str


def synthetic_document(index: int, seed: int = 0, *, sentences: tuple[int, int] = (30, 60)) -> SyntheticDoc:
    """The `index`-th synthetic document; the same (index, seed) always gives the same text.

    English-like sentences: words drawn Zipf-like from a common and a domain vocabulary,
    with a long tail of made-up names (so BM25 postings look like a real corpus's), and
    numbers and years sprinkled in.
    """
    rng = np.random.default_rng([seed, index])
    n_sent = int(rng.integers(sentences[0], sentences[1] + 1))
    vocab = _COMMON + _DOMAIN
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    p = 1.0 / ranks**1.05
    p /= p.sum()
    out = []
    topic = [_tail_word(int(t)) for t in rng.integers(0, 50_000, size=3)]  # the document's recurring names
    for _ in range(n_sent):
        n_words = int(rng.integers(8, 24))
        ids = rng.choice(len(vocab), size=n_words, p=p)
        words = [vocab[i] for i in ids]
        for j in range(n_words):
            u = rng.random()
            if u < 0.06:
                words[j] = topic[int(rng.integers(0, 3))]
            elif u < 0.10:
                words[j] = _tail_word(int(rng.zipf(1.3)) % 200_000)
            elif u < 0.12:
                words[j] = str(int(rng.integers(1990, 2030))) if rng.random() < 0.5 else f"{rng.integers(1, 999):d}.{rng.integers(0, 9):d}"
        words[0] = words[0].capitalize()
        out.append(" ".join(words) + ".")
        if rng.random() < 0.15:
            out.append("\n\n")
    text = " ".join(out).replace(" \n\n ", "\n\n").strip()
    return SyntheticDoc(f"synthetic_{seed}_{index:06d}.txt", text + "\n")


def synthetic_corpus(n_chunks: int, count_chunks: Callable[[str], int], seed: int = 0) -> list[SyntheticDoc]:
    """Synthetic documents, in order, until `count_chunks` says they hold >= `n_chunks` chunks."""
    if n_chunks < 1:
        raise ValueError(f"n_chunks must be >= 1, got {n_chunks!r}")
    docs: list[SyntheticDoc] = []
    total = 0
    while total < n_chunks:
        d = synthetic_document(len(docs), seed)
        docs.append(d)
        total += count_chunks(d.text)
    return docs


def synthetic_queries(docs: Sequence[SyntheticDoc], n: int, seed: int = 0) -> list[str]:
    """`n` questions, each made of a run of words from a sentence of one document."""
    rng = np.random.default_rng([seed, 7_777])
    out = []
    for _ in range(n):
        d = docs[int(rng.integers(0, len(docs)))]
        sents = [s for s in re.split(r"(?<=\.)\s+", d.text) if len(s.split()) >= 8]
        words = sents[int(rng.integers(0, len(sents)))].rstrip(".").split()
        lo = int(rng.integers(0, len(words) - 6))
        out.append("What about " + " ".join(words[lo:lo + int(rng.integers(4, 8))]).lower() + "?")
    return out


def write_corpus(docs: Iterable[SyntheticDoc], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for d in docs:
        (folder / d.doc_id).write_text(d.text, encoding="utf-8")
    return folder


def count_pages(folder: Path) -> tuple[int, int]:
    """(documents, pages) that partnerqa's loaders see in a folder (a text file is one page)."""
    from ingest.loaders import load_file

    docs = pages = 0
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() not in STOCK_SUFFIXES or f.name.startswith("."):
            continue
        for d in load_file(f, f.name):
            docs += 1
            pages += max(1, len(d.pages))
    return docs, pages
