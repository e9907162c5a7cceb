"""The booking service: holds become paid, confirmed bookings with tickets — or are refunded."""
