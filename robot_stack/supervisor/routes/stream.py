"""GET /api/stream: server-sent events with the live status and new metrics rows.

Every 1/`stream_hz` s (default 4 Hz) an `event: status` with the status JSON; whenever rows were
added, an `event: metrics` with `{"rows": [...]}` whose `id:` is the next row seq, so a browser
that reconnects (`Last-Event-ID`) only gets what it missed. `?since=SEQ` starts the rows there
(default 0: the whole history first). The stream ends when the client goes or the server stops.
"""
from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from robot_stack.supervisor.deps import get_state
from robot_stack.supervisor.state import SupervisorState

router = APIRouter(tags=["stream"])
MAX_ROWS_PER_EVENT = 2000


def sse(event: str, data: object, id: int | None = None) -> bytes:
    head = f"id: {id}\n" if id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@router.get("/stream", summary="Server-sent events: `status` (~4 Hz) and `metrics` (new rows)",
            response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def stream(request: Request, since: int = Query(0, ge=0),
                 last_event_id: int | None = Header(None, ge=0),
                 state: SupervisorState = Depends(get_state)) -> StreamingResponse:
    period = 1.0 / max(float(request.app.state.stream_hz), 0.1)
    stopping = request.app.state.stopping
    cursor = last_event_id if last_event_id is not None else since

    async def events():
        nonlocal cursor
        yield b"retry: 1000\n\n"
        while not stopping.is_set():
            rows = state.metrics(cursor, MAX_ROWS_PER_EVENT)
            if rows:
                cursor = rows[-1]["seq"] + 1
                yield sse("metrics", {"rows": rows}, id=cursor)
                if len(rows) == MAX_ROWS_PER_EVENT:
                    continue  # a long history: send the rest at once
            yield sse("status", state.status())
            if await request.is_disconnected():
                break
            await asyncio.sleep(period)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
