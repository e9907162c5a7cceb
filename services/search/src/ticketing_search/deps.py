"""What the search routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from ticketing_common.resources import provided

from ticketing_search.backend import SearchBackend

# Whichever backend is configured (OpenSearch, or the embedded PostgreSQL one), by its interface.
Backend = Annotated[SearchBackend, Depends(provided(SearchBackend))]
