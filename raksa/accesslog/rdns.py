"""Reverse-DNS names of the IPs seen (the 'domain name' of C2), resolved later and never on the request path.

Names are looked up in batches, in parallel threads, with one deadline for the whole batch; an IP
that does not answer in time gets an empty name. The ReverseName table is the cache (one row per
day and IP index), so an IP is looked up at most once a day; names are sealed under the day's key.
"""

import datetime
import socket
from concurrent.futures import ThreadPoolExecutor, wait

from django.db import IntegrityError, transaction

from raksa.accesslog.actions import local_today
from raksa.accesslog.daykeys import DayKeys, DayShreddedError
from raksa.accesslog.models import DayClient, ReverseName

BATCH = 200
WORKERS = 16


def _lookup(ip: str) -> str:
    try:
        return socket.gethostbyaddr(ip)[0][:253]
    except OSError:
        return ""


def resolve_day(day: datetime.date, *, limit: int = BATCH, timeout: float = 3.0) -> int:
    """Resolves up to `limit` of the day's IPs not yet named; returns how many were stored."""
    known = ReverseName.objects.filter(day=day).values("ip_index")
    pending = list(
        DayClient.objects.filter(day=day)
        .exclude(ip_index__in=known)
        .order_by("ip_index")
        .values_list("ip_index", flat=True)
        .distinct()[:limit]
    )
    if not pending:
        return 0
    try:
        opener = DayKeys().for_reading(day)
    except DayShreddedError:
        return 0
    ips: dict[str, str] = {}
    # One client per IP will do (the clients of an IP differ by browser string only).
    for ip_index, sealed in DayClient.objects.filter(day=day, ip_index__in=pending).values_list(
        "ip_index", "ip_sealed"
    ):
        if ip_index not in ips:
            ips[ip_index] = opener.unseal("ip", sealed, ip_index)
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="accesslog-rdns")
    futures = {ip_index: pool.submit(_lookup, ip) for ip_index, ip in ips.items()}
    wait(futures.values(), timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    stored = 0
    for ip_index, future in futures.items():
        name = future.result() if future.done() else ""
        try:
            with transaction.atomic():
                ReverseName.objects.create(
                    day=day, ip_index=ip_index, name_sealed=opener.seal("domain_name", name, ip_index)
                )
            stored += 1
        except IntegrityError:
            pass  # another resolver was first
    return stored


def resolve_recent() -> int:
    """Yesterday's and today's names: what an investigation most often needs first."""
    today = local_today()
    return sum(resolve_day(day) for day in (today - datetime.timedelta(days=1), today))
