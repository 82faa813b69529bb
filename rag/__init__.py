"""Retrieval and answering over a partnerqa index."""

from .answer import Answerer, StreamEvent
from .retriever import Retriever
from .types import Answer, AnswerSentence, Citation, Hit

__all__ = ["Answer", "AnswerSentence", "Answerer", "Citation", "Hit", "Retriever", "StreamEvent"]
