"""Request bodies of the control endpoints (unknown fields are refused with 422)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Note(BaseModel):
    """Optional body of a control call: why (shown in the status and carried in the event)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=200, description="free text, at most 200 characters")


class ActionResult(BaseModel):
    ok: bool
    status: dict = Field(description="the status right after the request (as GET /api/status)")
    warning: str | None = Field(None, description="set when part of the request was ignored")
