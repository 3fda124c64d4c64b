"""(being written this session)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["runs"])
