"""POST /api/robot/recover: franka's error recovery after a reflex / FCI error.

Publishes `request_recover`; the Franka bridge runs the three recovery steps (error recovery,
hardware component active, controllers on; robot_stack/franka/admin.py) and re-arms the cell.
The outcome arrives as an event: `robot_recovered` {steps}, or a `fault` "recovery failed".
"""
from __future__ import annotations

from fastapi import APIRouter, Depends

from robot_stack.franka.admin import REQ_RECOVER
from robot_stack.supervisor.deps import control, perform
from robot_stack.supervisor.models import ActionResult
from robot_stack.supervisor.state import SupervisorState

router = APIRouter(prefix="/robot", tags=["robot"])


@router.post("/recover", response_model=ActionResult,
             summary="Recover the arm after a reflex / FCI error and re-arm the cell (request_recover)")
def recover(state: SupervisorState = Depends(control)) -> dict:
    return perform(state, state.request, REQ_RECOVER)
