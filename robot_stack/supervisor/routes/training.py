"""POST /api/training/{pause,resume}: pause or resume the learner's updates."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from robot_stack.supervisor.deps import control, perform
from robot_stack.supervisor.models import ActionResult
from robot_stack.supervisor.state import SupervisorState

router = APIRouter(prefix="/training", tags=["training"])


@router.post("/pause", response_model=ActionResult, summary="Pause learner updates (training_pause)")
def pause(state: SupervisorState = Depends(control)) -> dict:
    return perform(state, state.pause_training)


@router.post("/resume", response_model=ActionResult, summary="Resume learner updates (training_resume)")
def resume(state: SupervisorState = Depends(control)) -> dict:
    return perform(state, state.resume_training)
