"""The search service: the event search index behind `/api/v1/search`."""
