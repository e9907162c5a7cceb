"""The events service: venues, seat maps, events and their price tiers."""
