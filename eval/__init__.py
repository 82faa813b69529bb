"""Evaluation: question sets, dataset converters and pure metric functions."""

__all__ = ["datasets", "metrics"]
