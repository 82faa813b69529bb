"""Grounded answers: every sentence cited to an exact quote, or an honest abstention.

The default answerer is extractive and needs no language model: it picks the
sentences of the retrieved passages that best answer the question (embedding
similarity with the bundled model, blended with idf-weighted term overlap and an
answer-type check), removes near-duplicates, puts the best first and cites each
one to its exact span in the source. When the best evidence scores below a
calibrated threshold it abstains and offers the closest passages as related
reading. Generative backends (OpenAI-compatible endpoint, local GGUF) sit behind
the `Generator` seam in `rag.generate`; their citations are re-checked by
`rag.verify` before anyone sees them.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from ingest.errors import ConfigError
from ingest.settings import Settings
from ingest.text import sentence_spans, terms

from .retriever import Retriever
from .types import Answer, AnswerSentence, Citation, Hit

log = logging.getLogger(__name__)

ABSTAIN_TEXT = "The documents do not contain the answer to this question."

# Blend of the evidence score; calibrated in eval/calibrate.py (see README).
DENSE_WEIGHT = 0.55
LEXICAL_WEIGHT = 0.45
TYPE_PENALTY = 0.15  # evidence lacking the kind of token the question asks for (a number, a date, a price)
ECHO_PENALTY = 0.2  # a sentence with no term beyond the question's cannot answer it
SUBJECT_WEIGHT = 0.3  # weight of question terms that are in the candidate document's title
MMR_LAMBDA = 0.7
# Candidate sentences embedded per question (most term overlap first). Embedding them is most
# of an answer's time (~4 ms a sentence on two cores): 32 gave a 142 ms answer p50 at 10k chunks,
# 16 gave 90 ms. Accuracy, abstention and token F1 on the seeds set and the SQuAD 2.0 sample were
# the same to three decimals at 32, 24, 16 and 12: the evidence always had term overlap.
MAX_EMBED = 16
SENTENCE_CACHE_SIZE = 20_000  # sentence vectors kept in memory (~30 MB)
FOLLOW_MARGIN = 0.12  # extra sentences must score within this of the best one

_BULLET = re.compile(r"(?:[-•*▪●◦]+|\d{1,2}[.)])\s+")
_FOLLOW_UP_START = re.compile(r"^\s*(and|also|what about|how about|but|so|then|or)\b", re.I)
_PRONOUNS = frozenset("it its they them their theirs those these that this there he him his she her hers".split())

_NUMBER_Q = re.compile(r"\b(how (many|much|large|big|long|far|fast)|what (number|percentage|share|amount|volume|quantity))\b", re.I)
_DATE_Q = re.compile(r"\b(when|what (year|date|day|month|time)|which (year|date|month))\b", re.I)
_PRICE_Q = re.compile(r"\b(price|cost|costs|priced|how much (does|did|do|is|was|will)|worth|paid|pay)\b", re.I)
_HAS_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|billion)\b", re.I)
_HAS_DATE = re.compile(
    r"\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|spring|summer|autumn|fall|winter|today|yesterday|"
    r"century|decade|week|days?|years?|months?)\b",
    re.I,
)
_HAS_PRICE = re.compile(r"[$€£¥₩]|\b(usd|dollars?|won|euros?|yen|cents?|price[sd]?|cost[s]?)\b", re.I)


@dataclass(frozen=True)
class StreamEvent:
    """A piece of a streamed answer: a text delta, and the final Answer on the last event."""

    delta: str
    answer: Answer | None = None


@dataclass(frozen=True)
class _Candidate:
    doc_id: str
    start: int
    end: int
    text: str
    hit: Hit
    order: int
    terms: frozenset[str]  # its content terms, computed once for filtering and scoring


def _history_pairs(history: Sequence[Any] | None) -> list[tuple[str, str]]:
    """Accept Gradio messages ({"role","content"}) or (user, assistant) pairs."""
    turns: list[tuple[str, str]] = []
    if not history:
        return turns
    for item in history:
        if isinstance(item, Mapping):
            role, content = item.get("role"), item.get("content")
            if isinstance(content, list):  # Gradio 6 content parts
                content = " ".join(str(p.get("text", "")) if isinstance(p, Mapping) else str(p) for p in content)
            turns.append((str(role), str(content or "")))
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            if item[0]:
                turns.append(("user", str(item[0])))
            if item[1]:
                turns.append(("assistant", str(item[1])))
    return turns


def contextualize(question: str, history: Sequence[Any] | None) -> str:
    """The retrieval query for `question` in a conversation.

    A follow-up ("and when will they arrive?") borrows the previous user question,
    so retrieval sees what "they" refers to. A self-contained question is returned
    as is.
    """
    prev = [c for role, c in _history_pairs(history) if role == "user" and c.strip()]
    if not prev:
        return question
    words = re.findall(r"[A-Za-z']+", question.lower())
    content = terms(question)
    follow_up = (
        bool(_FOLLOW_UP_START.match(question))
        or any(w in _PRONOUNS for w in words)
        or len(content) <= 2
    )
    if not follow_up:
        return question
    return f"{prev[-1].strip()} {question.strip()}"


def expected_type(question: str) -> str | None:
    """The kind of token an answer must contain: 'price', 'number', 'date' or None."""
    if _PRICE_Q.search(question):
        return "price"
    if _NUMBER_Q.search(question):
        return "number"
    if _DATE_Q.search(question):
        return "date"
    return None


def has_type(text: str, kind: str | None) -> bool:
    if kind is None:
        return True
    pattern = {"price": _HAS_PRICE, "number": _HAS_NUMBER, "date": _HAS_DATE}[kind]
    return bool(pattern.search(text))


class Answerer:
    """Answers questions from an index with sentence-level citations.

    Args:
        retriever: Where passages come from.
        k: Passages retrieved per question (default 8: sentences are picked from them).
        max_sentences: Most sentences in an extractive answer.
        abstain_threshold: Evidence score under which the answer is an abstention.
        answer_mode: "extractive" (default), or "openai"/"gguf" with `generator`.
        generator: A `rag.generate.Generator` for the generative modes.
        settings: Used to build a generator on demand for other modes.
    """

    def __init__(self, retriever: Retriever, *, k: int = 8, max_sentences: int = 3, abstain_threshold: float = 0.46,
                 answer_mode: str = "extractive", generator: Any = None, settings: Settings | None = None) -> None:
        if k < 1:
            raise ConfigError(f"k must be >= 1, got {k!r}")
        if max_sentences < 1:
            raise ConfigError(f"max_sentences must be >= 1, got {max_sentences!r}")
        if not 0.0 <= abstain_threshold <= 1.0:
            raise ConfigError(f"abstain_threshold must be in [0, 1], got {abstain_threshold!r}")
        if answer_mode not in ("extractive", "openai", "gguf"):
            raise ConfigError(f"answer_mode must be extractive, openai or gguf, got {answer_mode!r}")
        self.retriever = retriever
        self.k = k
        self.max_sentences = max_sentences
        self.abstain_threshold = abstain_threshold
        self.answer_mode = answer_mode
        self.settings = settings or Settings.from_env()
        self._generators: dict[str, Any] = {}
        self._vec_cache: OrderedDict[tuple[str, str, int, int], np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        if generator is not None:
            self._generators[answer_mode] = generator

    @classmethod
    def load(cls, index_dir: str | Path | None = None, *, settings: Settings | None = None, embedder: Any = None,
             generator: Any = None, **overrides: Any) -> "Answerer":
        """Open an index and build the answerer from settings (`PARTNERQA_*`).

        Overrides may name any Settings field (k, mode, abstain_threshold, answer_mode, ...).
        """
        settings = (settings or Settings.from_env()).with_(**overrides)
        if index_dir is not None:
            settings = settings.with_(index=Path(index_dir))
        retriever = Retriever.load(settings.index, embedder=embedder, settings=settings, k=max(settings.k, 8))
        return cls(retriever, k=max(settings.k, 8), max_sentences=settings.max_sentences,
                   abstain_threshold=settings.abstain_threshold, answer_mode=settings.answer_mode,
                   generator=generator, settings=settings)

    @property
    def embedder(self):
        return self.retriever.embedder

    def available_answer_modes(self) -> list[str]:
        from .generate import available_modes

        modes = available_modes(self.settings)
        return modes + [m for m in self._generators if m not in modes]

    def warm_up(self) -> None:
        """Load the model now and run one tiny search, so the first user waits for nothing."""
        self.retriever.search("warm up", k=1)

    # -- public ------------------------------------------------------------------------------
    def answer(self, question: str, history: Sequence[Any] | None = None, *, k: int | None = None,
               mode: str | None = None, answer_mode: str | None = None) -> Answer:
        """Answer one question; `history` makes follow-ups work (see `contextualize`)."""
        final = None
        for event in self.stream(question, history, k=k, mode=mode, answer_mode=answer_mode):
            final = event.answer or final
        assert final is not None
        return final

    def stream(self, question: str, history: Sequence[Any] | None = None, *, k: int | None = None,
               mode: str | None = None, answer_mode: str | None = None) -> Iterator[StreamEvent]:
        """Like `answer`, as text deltas; the last event carries the final Answer."""
        question = (question or "").strip()
        if not question:
            raise ConfigError("question must not be empty")
        answer_mode = answer_mode or self.answer_mode
        t0 = time.perf_counter()
        query = contextualize(question, history)
        hits = self.retriever.search(query, k or self.k, mode=mode)
        t1 = time.perf_counter()
        if answer_mode == "extractive":
            ans = self._extractive(question, query, hits, t0, t1)
            for piece in _pieces(ans.text):
                yield StreamEvent(piece)
            yield StreamEvent("", ans)
            return
        yield from self._generative(question, query, hits, history, answer_mode, t0, t1)

    # -- extractive --------------------------------------------------------------------------
    def _candidates(self, hits: Sequence[Hit]) -> list[_Candidate]:
        seen: set[tuple[str, int, int]] = set()
        out: list[_Candidate] = []
        for hit in hits:
            text = self.retriever.document_text(hit.doc_id) if hit.doc_id in self.retriever.snapshot.docs else None
            for s, e in sentence_spans(hit.text):
                s, e = _trim_marker(hit.text, s, e)
                sentence_terms = terms(hit.text[s:e])
                if len(sentence_terms) < 2:
                    continue  # too short to answer anything
                if hit.text[s:e].strip().lower() == hit.title.strip().lower() and hit.text[e:e + 1] == "\n":
                    continue  # the document's title as a heading line
                a, b = hit.start + s, hit.start + e
                if text is not None and text[a:b] != hit.text[s:e]:  # index changed under us: skip
                    continue
                key = (hit.doc_id, a, b)
                if key in seen:
                    continue
                seen.add(key)
                out.append(_Candidate(hit.doc_id, a, b, hit.text[s:e], hit, len(out), frozenset(sentence_terms)))
        return out

    def _idf(self, term: str) -> float:
        bm = self.retriever.snapshot.bm25
        i = bm.vocab.get(term)
        df = 0 if i is None else int(bm.term_ptr[i + 1] - bm.term_ptr[i])
        n = max(1, bm.n_docs)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def score_sentences(self, question: str, query: str, cands: Sequence[_Candidate]
                        ) -> tuple[list[_Candidate], np.ndarray, np.ndarray]:
        """Evidence score (about 0..1) and embedding of the candidate sentences worth embedding.

        score = DENSE_WEIGHT * cosine(query, sentence)
              + LEXICAL_WEIGHT * (share of the query's term weight found in the sentence)
              - TYPE_PENALTY if the sentence lacks the token type the question asks for
              - ECHO_PENALTY if the sentence adds no term beyond the question (a title, a heading)

        Term weights are idf over the candidate sentences themselves, so words that every
        candidate shares (the topic: a name, "Rubin") count less than the words that tell
        candidates apart (the relation asked about: "MBA", "born", "predecessor"). Only the
        MAX_EMBED candidates with the most term overlap (then the best-ranked passages) are
        embedded, and sentence vectors are cached per index generation.

        Returns:
            The kept candidates, their scores and their unit embeddings, aligned.
        """
        cand_terms = [c.terms for c in cands]
        q_focus = set(terms(question))
        q_terms = set(terms(query))
        n = len(cands)
        weights = {}
        for t in q_terms:
            df = sum(1 for ts in cand_terms if t in ts)
            local = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            weights[t] = (local + self._idf(t)) * (1.0 if t in q_focus else 0.5)
        lexical = np.zeros(n)
        title_terms: dict[str, set[str]] = {}
        for i, (c, ts) in enumerate(zip(cands, cand_terms)):
            # The document's subject (its title words) identifies the document, not the answer.
            subject = title_terms.setdefault(c.doc_id, set(terms(c.hit.title)))
            w = {t: v * (SUBJECT_WEIGHT if t in subject else 1.0) for t, v in weights.items()}
            lexical[i] = sum(v for t, v in w.items() if t in ts) / (sum(w.values()) or 1.0)
        keep = sorted(range(n), key=lambda i: (-lexical[i], i))[:MAX_EMBED]
        keep.sort()
        cands = [cands[i] for i in keep]
        cand_terms = [cand_terms[i] for i in keep]
        lexical = lexical[keep]
        qv, sv = self._embed_with_cache(query, cands)
        dense = np.clip(sv @ qv, 0.0, 1.0)
        kind = expected_type(question)
        type_pen = np.array([0.0 if has_type(c.text, kind) else TYPE_PENALTY for c in cands])
        echo_pen = np.array([ECHO_PENALTY if not (ts - q_terms) else 0.0 for ts in cand_terms])
        return cands, DENSE_WEIGHT * dense + LEXICAL_WEIGHT * lexical - type_pen - echo_pen, sv

    def _embed_with_cache(self, query: str, cands: Sequence[_Candidate]) -> tuple[np.ndarray, np.ndarray]:
        """The query's vector and the candidates' vectors, embedding only sentences not seen before."""
        gen = self.retriever.snapshot.generation
        keys = [(gen, c.doc_id, c.start, c.end) for c in cands]
        with self._cache_lock:
            cached = [self._vec_cache.get(k) for k in keys]
        missing = [i for i, v in enumerate(cached) if v is None]
        qv = self.retriever.embed_queries([query])[0]  # already embedded for retrieval: reused
        vecs = self.embedder.embed([cands[i].text for i in missing]) if missing else None
        with self._cache_lock:
            for j, i in enumerate(missing):
                cached[i] = vecs[j]
                self._vec_cache[keys[i]] = vecs[j]
            for k in keys:
                self._vec_cache.move_to_end(k)
            while len(self._vec_cache) > SENTENCE_CACHE_SIZE:
                self._vec_cache.popitem(last=False)
        return qv, np.vstack(cached) if cached else np.zeros((0, len(qv)), np.float32)

    def _extractive(self, question: str, query: str, hits: Sequence[Hit], t0: float, t1: float) -> Answer:
        cands = self._candidates(hits)
        if not cands:
            return self._abstain(question, query, hits, 0.0, t0, t1)
        cands, scores, vecs = self.score_sentences(question, query, cands)
        best = int(np.argmax(scores))
        confidence = float(scores[best])
        if confidence < self.abstain_threshold:
            return self._abstain(question, query, hits, confidence, t0, t1)
        chosen = [best]
        floor = max(self.abstain_threshold, confidence - FOLLOW_MARGIN)
        while len(chosen) < self.max_sentences:
            sims = vecs @ vecs[chosen].T
            mmr = MMR_LAMBDA * scores - (1 - MMR_LAMBDA) * sims.max(axis=1)
            mmr[chosen] = -np.inf
            mmr[scores < floor] = -np.inf
            mmr[sims.max(axis=1) > 0.9] = -np.inf  # near-duplicate of a chosen sentence
            nxt = int(np.argmax(mmr))
            if not np.isfinite(mmr[nxt]):
                break
            chosen.append(nxt)
        # Best sentence first; the rest in reading order (document, then position).
        rest = sorted(chosen[1:], key=lambda i: (cands[i].doc_id != cands[best].doc_id, cands[i].doc_id, cands[i].start))
        ordered = [best] + rest
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        for i in ordered:
            c = cands[i]
            n = len(citations) + 1
            citations.append(_citation(n, c.hit, c.start, c.end, c.text))
            sentences.append(AnswerSentence(text=c.text, citations=(n,)))
        text = " ".join(f"{s.text} [{s.citations[0]}]" for s in sentences)
        t2 = time.perf_counter()
        return Answer(question=question, text=text, sentences=tuple(sentences), citations=tuple(citations),
                      abstained=False, hits=tuple(hits), timings=_timings(t0, t1, t2), confidence=confidence,
                      mode="extractive", retrieval_query=query)

    def _abstain(self, question: str, query: str, hits: Sequence[Hit], confidence: float, t0: float, t1: float,
                 mode: str = "extractive", changes: tuple[str, ...] = ()) -> Answer:
        return Answer(question=question, text=ABSTAIN_TEXT, sentences=(), citations=(), abstained=True,
                      hits=tuple(hits), timings=_timings(t0, t1, time.perf_counter()), related=tuple(hits[:3]),
                      confidence=confidence, mode=mode, retrieval_query=query, changes=changes)

    # -- generative --------------------------------------------------------------------------
    def _generator(self, answer_mode: str):
        if answer_mode not in self._generators:
            from .generate import make_generator

            self._generators[answer_mode] = make_generator(self.settings.with_(answer_mode=answer_mode))
        return self._generators[answer_mode]

    def _generative(self, question: str, query: str, hits: Sequence[Hit], history: Sequence[Any] | None,
                    answer_mode: str, t0: float, t1: float) -> Iterator[StreamEvent]:
        from .prompts import build_messages
        from .verify import verify

        if not hits:
            ans = self._abstain(question, query, hits, 0.0, t0, t1, mode=answer_mode)
            yield StreamEvent(ans.text, ans)
            return
        gen = self._generator(answer_mode)
        hist = [{"role": r, "content": c} for r, c in _history_pairs(history)]
        messages = build_messages(question, hits, hist)
        parts: list[str] = []
        for delta in gen.stream(messages):
            parts.append(delta)
            yield StreamEvent(delta)
        checked = verify("".join(parts), hits, self.retriever.document_text, embedder=self.embedder)
        if checked.abstained:
            ans = self._abstain(question, query, hits, 0.0, t0, t1, mode=answer_mode, changes=checked.changes)
        else:
            ans = Answer(question=question, text=checked.text, sentences=checked.sentences,
                         citations=checked.citations, abstained=False, hits=tuple(hits),
                         timings=_timings(t0, t1, time.perf_counter()), confidence=1.0, mode=answer_mode,
                         retrieval_query=query, changes=checked.changes)
        yield StreamEvent("", ans)


def _citation(n: int, hit: Hit, start: int, end: int, quote: str) -> Citation:
    meta = hit.metadata or {}
    return Citation(n=n, doc_id=hit.doc_id, title=hit.title, page=hit.page, start=start, end=end, quote=quote,
                    publisher=str(meta.get("publisher", "") or ""), date=str(meta.get("date", "") or ""),
                    url=str(meta.get("url", "") or ""), chunk_id=hit.chunk_id)


def _trim_marker(text: str, s: int, e: int) -> tuple[int, int]:
    """Skip a leading bullet or list number so the quote starts at the words."""
    m = _BULLET.match(text, s, e)
    if m and m.end() < e:
        s = m.end()
    return s, e


def _timings(t0: float, t1: float, t2: float) -> dict[str, float]:
    return {"retrieve_ms": round((t1 - t0) * 1000, 2), "answer_ms": round((t2 - t1) * 1000, 2),
            "total_ms": round((t2 - t0) * 1000, 2)}


def _pieces(text: str, size: int = 3) -> Iterator[str]:
    """Split text into small word groups for streaming; joining them gives `text` back."""
    words = re.findall(r"\S+\s*", text)
    for i in range(0, len(words), size):
        yield "".join(words[i:i + size])
