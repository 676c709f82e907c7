"""Raksa's WSGI application, each request's CPU written down: what the load benchmark's journeys
cost the server per page (bench/load.py).

`gunicorn bench.request_cpu:application` serves `raksa.wsgi` and appends, per request, the method,
the page (ids replaced by `[id]`), and the CPU its request thread used (`time.thread_time`: the
server's own cost, which other work on a shared machine disturbs far less than response times) to
RAKSA_BENCH_REQUEST_CPU.PID (bench/load.py reads them back).
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
    started = time.thread_time()
    result = raksa(environ, start_response)
    # The body too: a response may be rendered while it is read.
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    milliseconds = (time.thread_time() - started) * 1000
    page = _ID.sub("[id]", environ.get("PATH_INFO", ""))
    with _LOCK, open(_LOG, "a") as log:
        log.write(f"{environ['REQUEST_METHOD']} {page} {milliseconds:.2f}\n")
    return [body]
