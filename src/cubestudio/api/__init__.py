"""The REST API (FastAPI) under /api/v1: thin routes over keyword-only store and engine
functions. Every route but login, /healthz and /metrics needs a bearer token; everything a
project owns is reached through ``deps.project_access``, which answers 404 to non-members.
Every 4xx has one shape: ``{"error": {"code", "message", "field"}}`` (errors.py)."""
