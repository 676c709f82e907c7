"""Request counts of the API's rate limits, in the database so that every server process shares them."""

from django.db import models


class RequestCount(models.Model):
    """Requests of one client (a keyed hash of its account or address) in one minute."""

    bucket = models.CharField(max_length=64)
    minute = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "minute"], name="one_count_per_bucket_minute")]
        indexes = [models.Index(fields=["minute"], name="api_requestcount_minute")]

    def __str__(self) -> str:
        return f"{self.count} requests"
