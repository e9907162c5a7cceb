"""What the gateway's own routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from ticketing_common.resources import provided

from ticketing_api_gateway.history import StatusRecorder
from ticketing_api_gateway.status import StatusPage

Status = Annotated[StatusPage, Depends(provided(StatusPage))]
History = Annotated[StatusRecorder, Depends(provided(StatusRecorder))]
