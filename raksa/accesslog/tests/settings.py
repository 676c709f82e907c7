"""Raksa's settings with the test routes of urls.py, for the server processes the tests start."""

from raksa.settings import *  # noqa: F403

ROOT_URLCONF = "raksa.accesslog.tests.urls"
