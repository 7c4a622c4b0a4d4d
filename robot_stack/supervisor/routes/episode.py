"""POST /api/episode/{start,success,abort}: ask the cell to start, succeed or abort an episode."""
from __future__ import annotations

from fastapi import APIRouter, Body, Depends

from robot_stack.supervisor.deps import control, perform
from robot_stack.supervisor.models import ActionResult, Note
from robot_stack.supervisor.state import SupervisorState

router = APIRouter(prefix="/episode", tags=["episode"])


@router.post("/start", response_model=ActionResult, summary="Start the next episode (request_start)")
def start(state: SupervisorState = Depends(control)) -> dict:
    return perform(state, state.start_episode)


@router.post("/success", response_model=ActionResult, summary="End the episode as a success (request_success)")
def success(state: SupervisorState = Depends(control)) -> dict:
    return perform(state, state.mark_success)


@router.post("/abort", response_model=ActionResult, summary="Abort the episode (request_abort)")
def abort(note: Note | None = Body(None), state: SupervisorState = Depends(control)) -> dict:
    return perform(state, state.abort_episode, note.reason if note else "")
