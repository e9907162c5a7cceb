"""The notification service: one email per booking fact, sent once, logged."""
