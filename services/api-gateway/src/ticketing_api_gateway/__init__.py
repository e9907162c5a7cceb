"""The API gateway: routing, edge auth, rate limits, resilience, the status page."""
