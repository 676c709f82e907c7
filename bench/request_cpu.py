"""Raksa's WSGI application, each request's CPU written down: what the load benchmark's journeys
cost the server per page (bench/load.py).

`gunicorn bench.request_cpu:application` serves `raksa.wsgi` and appends, per request, the method,
the page (ids replaced by `[id]`), the CPU its request thread used (`time.thread_time`: the
server's own cost, which other work on a shared machine disturbs far less than response times) and
its wall time inside the server to RAKSA_BENCH_REQUEST_CPU.PID (bench/load.py reads them back). Wall
time includes waiting for the busy core; a page whose wall time stands far above the other pages'
waits for something else: a lock, or a slow query (the log-in's look-up of its account walked a
million rows for 7 s on 20 ms of CPU).
"""

import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from raksa.wsgi import application as raksa

_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LOCK = threading.Lock()
# Imported in each server process after it starts (gunicorn loads the application per worker).
_LOG = f"{os.environ['RAKSA_BENCH_REQUEST_CPU']}.{os.getpid()}"


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    started, began = time.thread_time(), time.perf_counter()
    result = raksa(environ, start_response)
    # The body too: a response may be rendered while it is read.
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    milliseconds, wall = (time.thread_time() - started) * 1000, (time.perf_counter() - began) * 1000
    page = _ID.sub("[id]", environ.get("PATH_INFO", ""))
    with _LOCK, open(_LOG, "a") as log:
        log.write(f"{environ['REQUEST_METHOD']} {page} {milliseconds:.2f} {wall:.1f}\n")
    return [body]
