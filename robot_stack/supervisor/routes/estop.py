"""POST /api/estop and /api/estop/clear: the cell holds within one tick until an explicit clear.

Decision: an authenticated e-stop is never refused because of its payload. The optional body
`{"reason": "..."}` is read by hand after the token check; a body that is not such a JSON object
(wrong content type, bad JSON, extra fields, JSON nested too deeply to parse) still stops the
cell, and the answer says the body was ignored (`warning`). Every other control endpoint answers bad input with 422. Bodies over
`max_body_bytes` are refused (413) before any endpoint runs, the e-stop included.
"""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from robot_stack.supervisor.deps import control, perform
from robot_stack.supervisor.models import ActionResult, Note
from robot_stack.supervisor.state import SupervisorState

router = APIRouter(prefix="/estop", tags=["estop"])
_BODY_DOC = {"requestBody": {"required": False,
                             "content": {"application/json": {"schema": Note.model_json_schema()}}}}


@router.post("", response_model=ActionResult, openapi_extra=_BODY_DOC,
             summary="Emergency stop: publish `estop`, the cell holds (a malformed body never blocks it)")
async def estop(request: Request, state: SupervisorState = Depends(control)) -> dict:
    reason, warning = _note(await request.body())
    result = perform(state, state.estop, reason)
    return {**result, "warning": warning} if warning else result


@router.post("/clear", response_model=ActionResult, summary="Clear the e-stop (`estop_clear`)")
def clear(state: SupervisorState = Depends(control)) -> dict:
    return perform(state, state.clear_estop)


def _note(body: bytes) -> tuple[str, str | None]:
    if not body.strip():
        return "", None
    try:
        return Note.model_validate(json.loads(body)).reason, None
    except (ValueError, ValidationError, RecursionError) as e:  # JSONDecodeError, UnicodeDecodeError: ValueErrors
        why = (str(e).splitlines() or [type(e).__name__])[0][:120]
        return "", f"body ignored (expected {{\"reason\": \"...\"}}): {why}"
