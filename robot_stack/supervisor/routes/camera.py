"""GET /api/camera.jpg: the latest camera frame (the twin's render or a real camera topic)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Response

from robot_stack.supervisor.deps import get_state
from robot_stack.supervisor.state import SupervisorState

router = APIRouter(tags=["camera"])


@router.get("/camera.jpg", summary="Latest camera frame (JPEG); 404 when none arrived yet",
            response_class=Response, responses={200: {"content": {"image/jpeg": {}}}, 404: {}})
def camera(state: SupervisorState = Depends(get_state)) -> Response:
    got = state.camera()
    if got is None:
        raise HTTPException(404, "no camera frame yet")
    jpeg, seq = got
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store", "X-Frame-Seq": str(seq)})
