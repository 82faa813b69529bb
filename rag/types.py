"""Typed results of retrieval and answering: frozen dataclasses, never dicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with where it came from and why it ranked where it did.

    `start`/`end` are character offsets into the document's stored text, so
    ``document_text[start:end] == text``. `score` is the fused score used for
    ranking; `dense_score` is the cosine similarity (None when the chunk was not
    a dense candidate) and `bm25_score` the BM25 score (None likewise). Ranks are
    1-based within each channel. `multilingual_score`/`multilingual_rank` are the
    multilingual (e5) channel's cosine and rank, when it was searched; its cosines
    are compressed (~0.7 unrelated, ~0.85 related), so compare ranks, not values.
    """

    chunk_id: str
    doc_id: str
    title: str
    page: int | None
    start: int
    end: int
    text: str
    score: float
    dense_score: float | None = None
    dense_rank: int | None = None
    bm25_score: float | None = None
    bm25_rank: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    multilingual_score: float | None = None
    multilingual_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["metadata"] = dict(self.metadata)
        return d


@dataclass(frozen=True)
class Citation:
    """A source entry: `quote == document_text[start:end]`, always."""

    n: int
    doc_id: str
    title: str
    page: int | None
    start: int
    end: int
    quote: str
    publisher: str = ""
    date: str = ""
    url: str = ""
    chunk_id: str = ""
    context: str = ""  # for a table row: its column header lines (' / '-joined), shown beside the quote

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer and the citation numbers that support it."""

    text: str
    citations: tuple[int, ...]
    supported: bool = True


@dataclass(frozen=True)
class Answer:
    """What `Answerer.answer` returns.

    `text` is the sentences joined, each followed by its ``[n]`` markers. When
    `abstained` is true, `text` says that the documents do not contain the answer
    and `related` holds the closest passages ("related, but not an answer").
    `timings` are milliseconds by stage (`retrieve_ms`, `answer_ms`, `total_ms`).
    `changes` records what citation verification altered (generative mode).
    `short` is the span that answers (a figure, a name, a date), always a slice of the
    first citation's quote, and `short_span` its offsets in that document; both empty
    when no single span answers. `retrieval_query` is what was searched: the question, the
    question without the words that named its documents when it is scoped, or a follow-up
    joined to the previous question. `searched_for` is that merged query, shown to the user,
    and "" when the question stood alone. `scope` is ``{"doc_ids", "description"}`` when the
    question named documents. `lang` is the question's language (by script) and `notice` a line
    for the reader in that language (a Korean question's answer quotes English documents verbatim).
    """

    question: str
    text: str
    sentences: tuple[AnswerSentence, ...]
    citations: tuple[Citation, ...]
    abstained: bool
    hits: tuple[Hit, ...]
    timings: Mapping[str, float]
    related: tuple[Hit, ...] = ()
    confidence: float = 0.0
    mode: str = "extractive"
    retrieval_query: str = ""
    changes: tuple[str, ...] = ()
    short: str = ""
    short_span: tuple[int, int] | None = None
    scope: Mapping[str, Any] | None = None
    searched_for: str = ""
    lang: str = "en"
    notice: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The CLI's ``--json`` shape plus the extra fields."""
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "timings_ms": dict(self.timings),
            "confidence": self.confidence,
            "mode": self.mode,
            "sentences": [asdict(s) for s in self.sentences],
            "related": [h.to_dict() for h in self.related],
            "changes": list(self.changes),
            "short": self.short,
            "short_span": list(self.short_span) if self.short_span else None,
            "scope": dict(self.scope) if self.scope else None,
            "searched_for": self.searched_for,
            "lang": self.lang,
            "notice": self.notice,
        }
