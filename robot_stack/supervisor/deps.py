"""FastAPI dependencies shared by the routers: the state, bearer-token auth, live-graph check.

`control` guards every state-changing call: a state without a live graph (`rlif serve`
browsing a run) answers 409 JSON "no live graph" (there is nothing to protect); otherwise a
missing or wrong `Authorization: Bearer <token>` is a 401 JSON error (with
`WWW-Authenticate: Bearer`). The token is compared in constant time.
"""
from __future__ import annotations

import secrets

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from robot_stack.supervisor.state import SupervisorState

_bearer = HTTPBearer(auto_error=False, description="the token printed at start-up / in <run-dir>/supervisor.token")


def get_state(request: Request) -> SupervisorState:
    return request.app.state.supervisor


def require_token(request: Request,
                  creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    expected: str = request.app.state.token
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(creds.credentials.encode(), expected.encode()):
        raise HTTPException(401, "wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


def control(request: Request, state: SupervisorState = Depends(get_state),
            creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> SupervisorState:
    if state.read_only:  # nothing to protect: say why it cannot work, token or not
        raise HTTPException(409, "no live graph: this supervisor only browses a finished run")
    require_token(request, creds)
    return state


def perform(state: SupervisorState, action, *args) -> dict:
    """Run a control action; a failing `publish_event` is a 503 JSON error, never a silent success."""
    from robot_stack.supervisor.state import ReadOnlyError

    try:
        action(*args)
    except ReadOnlyError as e:
        raise HTTPException(409, str(e)) from None
    except Exception as e:  # noqa: BLE001 - the graph did not get the request: say so
        raise HTTPException(503, f"could not publish the request to the graph: {type(e).__name__}: {e}") from None
    return {"ok": True, "status": state.status()}
