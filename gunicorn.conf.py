"""How Raksa is served in production (docs/DEPLOY.md): `gunicorn -c gunicorn.conf.py raksa.wsgi`.

Threaded workers: they keep the proxy's connections alive (a sync worker closes each one, which here
cost more CPU than the home page itself: `raksa bench content`), and while one thread waits on the
database or hashes a password (argon2 releases the GIL) the worker's other threads keep answering.
"""

import os

from raksa.env import env_int

workers = env_int("RAKSA_WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1, minimum=1)
worker_class = "gthread"
threads = env_int("RAKSA_WEB_THREADS", 4, minimum=1)
bind = os.environ.get("RAKSA_WEB_BIND", "127.0.0.1:8000")
# Only the reverse proxy on this machine may say which client and scheme a request came from.
forwarded_allow_ips = os.environ.get("RAKSA_TRUSTED_PROXIES", "127.0.0.1")
timeout = 30
graceful_timeout = 10
