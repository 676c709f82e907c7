"""The public site's figures: home page server time, requests per second per core, page weight.

Everything runs against a scratch site made for the run (production settings, a temporary SQLite
database and media folder, collected static files): 1,000 news items, the latest with pictures.
- server time: the home page rendered in-process, the public-page cache off, against /healthz;
- throughput: gunicorn with one threaded worker (as deployed) pinned to core 0, driven by Debian's
  `wrk` pinned to core 1, the home page as anonymous visitors get it (cache on), against /healthz on the same server;
- weight: every byte Chromium transfers to show the home page (HTML, CSS, font, pictures).

This machine's two cores are shared with other work, so wall-clock figures fall with the load.
The figures are therefore taken in CPU time: server time is the CPU time one request costs, and
requests per second per core are requests served per CPU-second the server used (a core that is
ours alone). The wall-clock values and the load average stand beside them in the detail.

The full run also holds 500 activities (the services app's home section shows the next ones).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bench import serving
from bench.harness import Figure, measure

ROOT = Path(__file__).resolve().parent.parent
PICTURED_NEWS = 12
ACTIVITIES = 500


def run(*, small: bool) -> list[Figure]:
    news = 10 if small else 1_000
    with tempfile.TemporaryDirectory(prefix="raksa-bench-content-") as directory:
        environment = _production_environment(Path(directory))
        found = _child(environment, news, small)
        figures = [
            Figure(
                f"home page server time, {news:,} news",
                found["home_cpu"] * 1000,
                20.0,
                "ms CPU",
                detail=f"median of {found['samples']}, cache off; wall {found['home_wall'] * 1000:.1f} ms; "
                f"/healthz {found['healthz_cpu'] * 1000:.2f} ms CPU; {found['queries']} queries; "
                f"activities: {found['activities']}; load average {os.getloadavg()[0]:.1f}",
            )
        ]
        figures += _served(environment, small)
    return figures


def _production_environment(scratch: Path) -> dict[str, str]:
    from raksa import devkeys

    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RAKSA_", "DATABASE_URL", "DEBUG"))},
        **devkeys.generate_keys(),
        "RAKSA_ENV": "production",
        "RAKSA_VAR_DIR": str(scratch),
        "RAKSA_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "RAKSA_SMTP_HOST": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{scratch / 'raksa.sqlite3'}",
        "RAKSA_KEYSTORE_URL": f"sqlite:///{scratch / 'keystore.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "raksa.settings",
    }


def _child(environment: dict[str, str], news: int, small: bool) -> dict:
    arguments = [sys.executable, "-m", "bench.content", str(news), "small" if small else "full"]
    done = subprocess.run(arguments, env=environment, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"bench content child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def hello(environ: dict, start_response: Callable) -> list[bytes]:
    """The baseline: the least a WSGI application can do, under the same server and the same load."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


# As deployed (docs/accounts.md): threaded workers, which keep connections alive.
THREADS = 4


def _served(environment: dict[str, str], small: bool) -> list[Figure]:
    if shutil.which("wrk") is None or not serving.pinning_available():
        print("bench content: `wrk` or `taskset` missing (apt-get install -y wrk): throughput NOT measured")
        return []
    seconds = 3 if small else 10
    with serving.gunicorn("bench.content:hello", environment, threads=THREADS) as baseline:
        bare = serving.wrk(baseline.base + "/", seconds, baseline.pid)
    with serving.gunicorn("raksa.wsgi:application", environment, threads=THREADS, ready="/healthz") as server:
        home = serving.wrk(f"{server.base}/th/", seconds, server.pid)
        healthz = serving.wrk(f"{server.base}/healthz", seconds, server.pid)
        figures = [
            Figure(
                "home page throughput, gunicorn, per core",
                home.per_cpu_second,
                1000,
                "req/CPU-s",
                direction="min",
                detail=f"wrk on the other core, {seconds} s: {home.per_second:,.0f} req/s wall clock; "
                f"baseline hello-world WSGI app on the same server {bare.per_cpu_second:,.0f} req/CPU-s "
                f"({home.per_cpu_second / bare.per_cpu_second:.0%}); "
                f"/healthz {healthz.per_cpu_second:,.0f} req/CPU-s; load average {os.getloadavg()[0]:.1f}",
            )
        ]
        weight = _weight(f"{server.base}/th/")
        if weight is not None:
            total, parts = weight
            figures.append(
                Figure(
                    "home page weight with pictures",
                    total / 1024,
                    300,
                    "KB",
                    detail=", ".join(f"{kind} {size / 1024:.0f} KB" for kind, size in sorted(parts.items())),
                )
            )
        return figures


def _weight(url: str) -> tuple[int, dict[str, int]] | None:
    """Bytes transferred (headers and bodies, compressed as sent) to show the page, by kind."""
    if not Path("/usr/bin/chromium").exists():
        print("bench content: /usr/bin/chromium missing: page weight NOT measured")
        return None
    from playwright.sync_api import Request, sync_playwright

    from raksa.testing.browser import CHROMIUM_ARGS

    parts: dict[str, int] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            requests: list[Request] = []
            page.on("requestfinished", lambda request: requests.append(request))
            page.goto(url, wait_until="networkidle")
            page.evaluate("document.fonts.ready.then(() => true)")
            page.wait_for_load_state("networkidle")
            for request in requests:
                sizes = request.sizes()
                # A negative size is a response taken from the memory cache: nothing was transferred.
                size = max(0, sizes["responseBodySize"]) + max(0, sizes["responseHeadersSize"])
                parts[request.resource_type] = parts.get(request.resource_type, 0) + size
        finally:
            browser.close()
    return sum(parts.values()), parts


# --- the child process: a scratch site, then the in-process server time -----------------------------


def _seed(news: int) -> str:
    from django.utils import timezone

    from raksa.content import actions, search
    from raksa.content.demo import draw_picture
    from raksa.content.models import NewsItem, SearchDocument
    from raksa.core import demo

    demo.load_organisations()
    now = timezone.now()
    body = "กระทรวงวิทยาศาสตร์และเทคโนโลยีจัดกิจกรรมเพื่อประชาชน " * 20
    items = NewsItem.objects.bulk_create(
        NewsItem(
            title_th=f"ข่าวประชาสัมพันธ์ฉบับที่ {number}",
            title_en=f"Press release {number}",
            summary_th="สรุปข่าวประชาสัมพันธ์ของหน่วยงาน",
            summary_en="A summary of the agency's press release",
            body_th=body,
            body_en="The ministry holds activities for the public. " * 20,
            published_at=now - timedelta(hours=number + PICTURED_NEWS),
        )
        for number in range(news)
    )
    words = search.index_text(body)
    SearchDocument.objects.bulk_create(
        SearchDocument(
            source="news",
            key=str(item.pk),
            title_th=item.title_th,
            title_en=item.title_en,
            url_name="content:news_detail",
            url_kwargs={"pk": item.pk},
            words=words,
            published_at=item.published_at,
        )
        for item in items
    )
    colours = [((29, 78, 137), (255, 191, 71)), ((30, 107, 55), (238, 243, 249)), ((164, 38, 44), (255, 255, 255))]
    for number in range(PICTURED_NEWS):
        actions.publish_news(
            title_th=f"ข่าวพร้อมภาพลำดับที่ {number}",
            title_en=f"News with a picture, number {number}",
            summary_th="กิจกรรมของหน่วยงานพร้อมภาพประกอบ",
            summary_en="The agency's activity, with a picture",
            body_th=body,
            published_at=now - timedelta(hours=number),
            uploads=[
                actions.PictureUpload(
                    draw_picture(colours[number % 3], number % 4), alt_th="ภาพกิจกรรม", alt_en="The activity"
                )
            ],
        )
    return f"{_seed_activities(ACTIVITIES if news >= 1_000 else ACTIVITIES // 100, now)} in the database"


def _seed_activities(count: int, now: datetime) -> int:
    from raksa.organisations.models import Agency
    from raksa.services.models import Kind, Service

    agency = Agency.objects.order_by("id").first()
    Service.objects.bulk_create(
        Service(
            agency=agency,
            slug=f"activity-{number}",
            kind=Kind.ACTIVITY,
            title_th=f"กิจกรรมเพื่อประชาชนครั้งที่ {number}",
            title_en=f"Activity for the public number {number}",
            place_th="ห้องประชุมสำนักงานเขต",
            place_en="The district office's meeting room",
            starts_at=now + timedelta(days=number % 90, hours=number % 8),
            ends_at=now + timedelta(days=number % 90, hours=number % 8 + 3),
            capacity=30,
        )
        for number in range(count)
    )
    return count


def main(news: int, small: bool) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    call_command("migrate", database="keystore", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    activities = _seed(news)
    client = Client()
    samples = 20 if small else 200
    with override_settings(RAKSA_PUBLIC_PAGE_SECONDS=0):
        assert client.get("/th/").status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get("/th/")
        home = measure(lambda: client.get("/th/"), repeat=samples, warmup=5)
        home_cpu = measure(lambda: client.get("/th/"), repeat=samples, warmup=0, clock=time.process_time)
    healthz_cpu = measure(lambda: client.get("/healthz"), repeat=samples, warmup=5, clock=time.process_time)
    print(
        json.dumps(
            {
                "home_wall": home.median,
                "home_cpu": home_cpu.median,
                "healthz_cpu": healthz_cpu.median,
                "samples": samples,
                "queries": len(queries.captured_queries),
                "activities": activities,
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] == "small")
