"""Locate: which of our own items could answer a lending request. The matching is the
catalogue's (`fulfillment.matching`), shared with borrowing's own-collection check."""

from fulfillment.matching import Candidate, find_candidates, is_available, normalize_title

__all__ = ["Candidate", "find_candidates", "is_available", "normalize_title"]
