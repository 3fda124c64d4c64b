"""(being written this session) /metrics for Prometheus."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount /metrics and the HTTP latency middleware."""
