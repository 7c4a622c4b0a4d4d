"""GET /api/videos: the run's latest episode videos; GET /api/videos/{name}: one mp4.

Videos are `RUN/videos/episode-NNNNN.mp4` (`train.video_every`, `sim/video.py`); only names of
that form are served (no path outside the run's video folder).
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse

router = APIRouter(tags=["videos"])


def _run_dir(request: Request) -> Path | None:
    return request.app.state.run_dir


@router.get("/videos", summary="The latest episode videos, highest episode first")
def list_videos(request: Request, n: int = Query(3, ge=1, le=100, description="at most this many")) -> dict:
    from sim.video import NAME, latest_videos

    run_dir = _run_dir(request)
    found = latest_videos(run_dir, n) if run_dir is not None else []
    return {"videos": [{"name": p.name, "episode": int(NAME.match(p.name).group(1)), "url": f"/api/videos/{p.name}"}
                       for p in found]}


@router.get("/videos/{name}", summary="One episode video (video/mp4); 404 when there is none of that name",
            response_class=FileResponse, responses={200: {"content": {"video/mp4": {}}}, 404: {}})
def get_video(name: str, request: Request) -> FileResponse:
    from sim.video import NAME

    run_dir = _run_dir(request)
    path = Path(run_dir) / "videos" / name if run_dir is not None and NAME.match(name) else None
    if path is None or not path.is_file():
        raise HTTPException(404, f"no episode video {name!r}")
    return FileResponse(path, media_type="video/mp4")
