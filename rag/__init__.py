"""Retrieval and answering over a partnerqa index."""

from .retriever import Retriever
from .types import Answer, AnswerSentence, Citation, Hit

__all__ = ["Answer", "AnswerSentence", "Citation", "Hit", "Retriever"]
