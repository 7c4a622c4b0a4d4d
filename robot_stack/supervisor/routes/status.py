"""GET /api/status: the live snapshot (episode, step, who drives, e-stop, rates, node health)."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from robot_stack.supervisor.deps import get_state
from robot_stack.supervisor.state import SupervisorState

router = APIRouter(tags=["status"])


@router.get("/status", summary="Live status of the cell, the policy, the learner and the nodes")
def get_status(state: SupervisorState = Depends(get_state)) -> dict:
    return state.status()
