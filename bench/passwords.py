"""Password hashing and logging in under load (issue 4, A2).

- One Argon2id verification with Raksa's parameters (raksa/accounts/hashers.py), against
  Django's default Argon2 settings measured in the same run; the detail adds argon2-cffi (Django's
  own code) at the same parameters and at OWASP's m=19 MiB, t=2, p=1.
- Twenty logins at once against gunicorn on loopback, configured as deployed (gunicorn.conf.py: its
  workers and threads, DEBUG off) on a scratch SQLite database: their p95, and the p95 of a public
  page fetched during the bursts (logins must not starve the site).
"""

import http.cookiejar
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from django.contrib.auth.hashers import Argon2PasswordHasher

from bench import scratch as templates
from bench.harness import Figure, Timing, measure
from raksa.accounts.hashers import Argon2idHasher

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONCURRENT_LOGINS = 20
PASSWORD = "a long enough bench passphrase"  # noqa: S105  (the scratch accounts' password)
# As deployed (docs/DEPLOY.md): its workers and threads, and DEBUG off.
SERVER_CONFIG = ROOT / "gunicorn.conf.py"


def run(*, small: bool) -> list[Figure]:
    return [*_hashing(small=small), *_logins(bursts=3 if small else 10)]


def _hashing(*, small: bool) -> list[Figure]:
    repeat = 5 if small else 15
    chosen, default = Argon2idHasher(), Argon2PasswordHasher()
    same_by_argon2_cffi = _django_argon2(chosen.memory_cost, chosen.time_cost)
    owasp_19_mib = _django_argon2(19 * 1024, 2)
    chosen_time, default_time = _verify_time(chosen, repeat), _verify_time(default, repeat)
    others = (
        f"argon2-cffi: {_verify_time(same_by_argon2_cffi, repeat).median * 1000:.1f} ms, "
        f"and {_verify_time(owasp_19_mib, repeat).median * 1000:.1f} ms at {_parameters(owasp_19_mib)}"
    )
    return [
        Figure(
            "argon2id verify, Raksa's parameters",
            chosen_time.median * 1000,
            50,
            "ms",
            detail=f"{_parameters(chosen)}, libsodium; {others}; "
            f"Django's default ({_parameters(default)}): {default_time.median * 1000:.0f} ms",
        ),
        Figure(
            "argon2id verify vs Django's default Argon2",
            chosen_time.median / default_time.median,
            0.5,
            "times",
            detail=f"{chosen_time.median * 1000:.1f} ms vs {default_time.median * 1000:.1f} ms, same run",
        ),
    ]


def _verify_time(hasher: Argon2PasswordHasher, repeat: int) -> Timing:
    encoded = hasher.encode(PASSWORD, hasher.salt())
    return measure(lambda: hasher.verify(PASSWORD, encoded), repeat=repeat)


def _django_argon2(memory_cost: int, time_cost: int) -> Argon2PasswordHasher:
    """Django's own Argon2 hasher (argon2-cffi) at other parameters, for comparison."""
    hasher = Argon2PasswordHasher()
    hasher.memory_cost, hasher.time_cost, hasher.parallelism = memory_cost, time_cost, 1
    return hasher


def _parameters(hasher: Argon2PasswordHasher) -> str:
    return f"m={hasher.memory_cost // 1024} MiB, t={hasher.time_cost}, p={hasher.parallelism}"


def _get(url: str) -> bytes:
    return urllib.request.urlopen(url, timeout=10).read()  # noqa: S310  (http on loopback, built here)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _raksa(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "raksa"), *args], env=env, check=True, capture_output=True, cwd=ROOT)


_MAKE_USERS = """
from raksa.accounts.models import User
from raksa.subjects.models import Subject
for number in range({count}):
    User.objects.create_user(f"bench{{number}}", {password!r}, subject=Subject.objects.create())
"""


class _Site:
    """gunicorn serving Raksa from a scratch directory, with bench users in its database."""

    def __init__(self, scratch: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # The scratch database only: keys, audit checkpoints and mail stay in the scratch directory too.
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RAKSA_", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"))
        }
        self.env.update(RAKSA_VAR_DIR=str(scratch), RAKSA_LOG_LEVEL="WARNING", DEBUG="false")
        # Where the settings look by default, migrated already.
        templates.sqlite(scratch / "raksa.sqlite3")
        templates.sqlite(scratch / "keystore.sqlite3", keystore=True)
        _raksa("shell", "-c", _MAKE_USERS.format(count=CONCURRENT_LOGINS, password=PASSWORD), env=self.env)
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                f"--config={SERVER_CONFIG}",
                "raksa.wsgi",
                f"--bind=127.0.0.1:{self.port}",
                "--log-level=warning",
            ],
            env=self.env,
            cwd=ROOT,
        )
        # Minutes, not seconds: five workers start Django at once on a machine that may be busy.
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                _get(f"{self.base}/healthz")
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _login_form(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A browser-like client that has fetched the login page: its cookie jar and CSRF token."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())
    page = opener.open(f"{base}/th/accounts/login/", timeout=10).read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match is not None
    return opener, match.group(1)


def _log_in(opener: urllib.request.OpenerDirector, token: str, base: str, username: str) -> float:
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "identifier": username, "password": PASSWORD}).encode()
    request = urllib.request.Request(f"{base}/th/accounts/login/", data=body, headers={"Referer": f"{base}/"})  # noqa: S310
    start = time.perf_counter()
    try:
        opener.open(request, timeout=30).read()
    except urllib.error.HTTPError as response:
        if response.code != 302:
            raise
    return time.perf_counter() - start


def _logins(*, bursts: int) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="raksa-bench-passwords-") as directory:
        site = _Site(Path(directory))
        try:
            public_idle = measure(lambda: _get(f"{site.base}/th/"), repeat=30)
            alone = Timing(tuple(_log_in(*_login_form(site.base), site.base, "bench0") for _number in range(10)))
            login_samples: list[float] = []
            public_samples: list[float] = []
            for _burst in range(bursts):
                login_samples += _burst_of_logins(site.base, public_samples)
        finally:
            site.stop()
    logins, public = Timing(tuple(login_samples)), Timing(tuple(public_samples))
    served = runpy.run_path(str(SERVER_CONFIG))
    setup = f"gunicorn.conf.py's {served['workers']} workers x {served['threads']} threads, SQLite, {bursts} bursts"
    return [
        Figure(
            f"login p95, {CONCURRENT_LOGINS} at once",
            logins.p95 * 1000,
            300,
            "ms",
            detail=f"median {logins.median * 1000:.0f} ms, one alone {alone.median * 1000:.0f} ms; {setup}",
        ),
        Figure(
            "public page p95 during the login bursts",
            public.p95 * 1000,
            200,
            "ms",
            detail=f"idle p95 {public_idle.p95 * 1000:.0f} ms; {len(public_samples)} fetches",
        ),
    ]


def _burst_of_logins(base: str, public_samples: list[float]) -> list[float]:
    forms = [_login_form(base) for _number in range(CONCURRENT_LOGINS)]
    start_line = threading.Barrier(CONCURRENT_LOGINS + 1)
    results: list[float] = []
    done = threading.Event()

    def log_in(number: int) -> None:
        opener, token = forms[number]
        start_line.wait()
        results.append(_log_in(opener, token, base, f"bench{number}"))

    def browse() -> None:
        start_line.wait()
        while not done.is_set():
            start = time.perf_counter()
            _get(f"{base}/th/")
            public_samples.append(time.perf_counter() - start)

    threads = [threading.Thread(target=log_in, args=(number,)) for number in range(CONCURRENT_LOGINS)]
    visitor = threading.Thread(target=browse)
    for thread in [*threads, visitor]:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    visitor.join()
    return results
