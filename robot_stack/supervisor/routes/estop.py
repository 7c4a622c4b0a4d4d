"""POST /api/estop and /api/estop/clear: the cell holds within one tick until an explicit clear."""
from __future__ import annotations

from fastapi import APIRouter, Body, Depends

from robot_stack.supervisor.deps import control, perform
from robot_stack.supervisor.models import ActionResult, Note
from robot_stack.supervisor.state import SupervisorState

router = APIRouter(prefix="/estop", tags=["estop"])


@router.post("", response_model=ActionResult, summary="Emergency stop: publish `estop`, the cell holds")
def estop(note: Note | None = Body(None), state: SupervisorState = Depends(control)) -> dict:
    return perform(state, state.estop, note.reason if note else "")


@router.post("/clear", response_model=ActionResult, summary="Clear the e-stop (`estop_clear`)")
def clear(state: SupervisorState = Depends(control)) -> dict:
    return perform(state, state.clear_estop)
