from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class NotificationOut(BaseModel):
    notification_id: str
    kind: str
    subject: str
    sent_at: datetime
    booking_id: str
