"""Rerankers score answers to a problem. The interface loads no model library."""

from __future__ import annotations

from coderank.reranker.base import Reranker

__all__ = ["Reranker"]
