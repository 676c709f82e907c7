"""The API's rate limits, in the database so that every server process shares them."""

from django.db import models


class RecentRequests(models.Model):
    """When one client's (a keyed hash of its account or address) admitted requests of the last window
    came: at most the limit's number of timestamps, oldest first (a sliding log, raksa.api.throttling)."""

    bucket = models.CharField(max_length=64, unique=True)
    times = models.JSONField(default=list)
    last_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{len(self.times)} recent requests"
