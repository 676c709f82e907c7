"""The public site's figures: home page server time, requests per second per core, page weight.

Everything runs on the bench data set (bench/dataset.py, PostgreSQL) in production settings, with
collected static files: its 1,000,000 people (`--small`: 10,000) and the world every data set starts
from, whose news are 1,000 press releases and 12 news with pictures (seed_news) besides the demo's.
- server time: the home page rendered in-process, the public-page cache off, against /healthz;
- throughput: gunicorn with one threaded worker (as deployed) pinned to core 0, driven by Debian's
  `wrk` pinned to core 1, the home page as anonymous visitors get it (cache on), against /healthz on the same server;
- weight: every byte Chromium transfers to show the home page (HTML, CSS, font, pictures).

This machine's two cores are shared with other work, so wall-clock figures fall with the load.
The figures are therefore taken in CPU time: server time is the CPU time one request costs, and
requests per second per core are requests served per CPU-second the server used (a core that is
ours alone). The wall-clock values and the load average stand beside them in the detail.
"""

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bench import dataset, serving
from bench.harness import Figure, measure, run_child

ROOT = Path(__file__).resolve().parent.parent
NEWS = 1_000
PICTURED_NEWS = 12


def run(*, small: bool) -> list[Figure]:
    data = dataset.ensure("small" if small else "full")
    with tempfile.TemporaryDirectory(prefix="raksa-bench-content-") as directory:
        environment = data.environment(
            directory,
            RAKSA_ENV="production",
            RAKSA_SSL_REDIRECT="false",
            ALLOWED_HOSTS="127.0.0.1,testserver",
            RAKSA_SMTP_HOST="127.0.0.1",
        )
        serving.link_static(directory, environment)
        found = run_child("bench.content:home_timings", [str(20 if small else 200)], environment)
        figures = [
            Figure(
                f"home page server time, {found['news']:,} news",
                found["home_cpu"] * 1000,
                20.0,
                "ms CPU",
                detail=f"median of {found['samples']}, cache off; wall {found['home_wall'] * 1000:.1f} ms; "
                f"/healthz {found['healthz_cpu'] * 1000:.2f} ms CPU; {found['queries']} queries; "
                f"{found['activities']} activities; bench data set of {data.counts['citizens']:,} people; "
                f"load average {os.getloadavg()[0]:.1f}",
            )
        ]
        figures += _served(environment, small)
    return figures


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
    seconds = 1 if small else 10
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


# --- the data set's news, and the child process measuring in-process ---------------------------------


def seed_news() -> None:
    """The news of the bench data set's world: NEWS press releases (with their search documents) and
    PICTURED_NEWS news with pictures, published through the content app's action."""
    from django.utils import timezone

    from raksa.content import actions, search
    from raksa.content.demo import draw_picture
    from raksa.content.models import NewsItem, SearchDocument

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
        for number in range(NEWS)
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


def home_timings(samples: str) -> dict:
    """The home page's server time in this process (the data set's databases, production settings)."""
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from raksa.content.models import NewsItem
    from raksa.services.models import Kind, Service

    count = int(samples)
    client = Client()
    with override_settings(RAKSA_PUBLIC_PAGE_SECONDS=0):
        assert client.get("/th/").status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get("/th/")
        home = measure(lambda: client.get("/th/"), repeat=count, warmup=5)
        home_cpu = measure(lambda: client.get("/th/"), repeat=count, warmup=0, clock=time.process_time)
    healthz_cpu = measure(lambda: client.get("/healthz"), repeat=count, warmup=5, clock=time.process_time)
    return {
        "home_wall": home.median,
        "home_cpu": home_cpu.median,
        "healthz_cpu": healthz_cpu.median,
        "samples": count,
        "queries": len(queries.captured_queries),
        "news": NewsItem.objects.count(),
        "activities": Service.objects.filter(kind=Kind.ACTIVITY).count(),
    }
