"""`create_app(state, token, run_dir, cfg)`: the supervisor's FastAPI app (API + dashboard).

- `/api/...` routers, one per resource (`routes/`); OpenAPI docs at `/docs` and `/openapi.json`.
- Reads (`GET`) are open; every state-changing call needs `Authorization: Bearer <token>`
  (`deps.control`): 401 JSON when missing or wrong, 409 JSON when there is no live graph.
- Every error is JSON `{"detail": ...}`: 401, 404, 405, 409, 413 (body over
  `cfg.max_body_bytes`, `limits.BodyLimitMiddleware`), 422 (bad input), 500, 503 (publish failed).
- Bound to loopback, it answers only requests addressed to a loopback name (`hosts.py`,
  a DNS-rebinding guard; 400 JSON otherwise).
- `/` serves the dashboard (`static/`); it takes the token from `/?token=...` once, keeps it in
  sessionStorage and sends it as the bearer header.
- `app.state.stopping` (a `threading.Event`) ends open event streams (set by `server.stop()`).
"""
from __future__ import annotations

import threading
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from robot_stack.config import SupervisorConfig
from robot_stack.supervisor.hosts import LoopbackHostMiddleware, is_loopback
from robot_stack.supervisor.limits import BodyLimitMiddleware
from robot_stack.supervisor.routes import ROUTERS
from robot_stack.supervisor.state import SupervisorState

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(state: SupervisorState, token: str, run_dir: Path | None = None,
               cfg: SupervisorConfig = SupervisorConfig()) -> FastAPI:
    if not token:
        raise ValueError("the supervisor needs a non-empty token")
    app = FastAPI(title="RLIF cell supervisor", version="1",
                  description="Watch and steer an RLIF training run. State-changing calls need "
                              "`Authorization: Bearer <token>` (printed at start-up, stored 0600 in "
                              "`<run-dir>/supervisor.token`).")
    app.state.supervisor = state
    app.state.token = token
    app.state.run_dir = run_dir
    app.state.stream_hz = cfg.stream_hz
    app.state.stopping = threading.Event()
    for r in ROUTERS:
        app.include_router(r, prefix="/api")
    _json_errors(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=cfg.max_body_bytes)
    if is_loopback(cfg.host):
        app.add_middleware(LoopbackHostMiddleware)  # outermost: checked first

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/api", include_in_schema=False)
    def api_root() -> dict:
        return {"run_dir": str(run_dir) if run_dir else None, "read_only": state.read_only,
                "docs": "/docs", "openapi": "/openapi.json"}

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _json_errors(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, status_code=500)
