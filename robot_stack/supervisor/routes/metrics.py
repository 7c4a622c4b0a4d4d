"""GET /api/metrics: per-episode history for the charts (`?since=SEQ` for only newer rows)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from robot_stack.supervisor.deps import get_state
from robot_stack.supervisor.state import SupervisorState

router = APIRouter(tags=["metrics"])


@router.get("/metrics", summary="Per-episode metrics rows, oldest first")
def get_metrics(since: int = Query(0, ge=0, description="only rows with seq >= since"),
                limit: int | None = Query(None, ge=1, le=100000, description="at most this many rows"),
                state: SupervisorState = Depends(get_state)) -> dict:
    rows = state.metrics(since, limit)
    return {"rows": rows, "next": rows[-1]["seq"] + 1 if rows else since, "window": state.window}
