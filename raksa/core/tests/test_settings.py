import os
import subprocess
import sys

from django.core.exceptions import ImproperlyConfigured
from django.test import SimpleTestCase

from raksa import devkeys
from raksa.env import database_from_url, env_bool, env_choice, env_int


def _production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAKSA_", "DATABASE_URL", "DEBUG", "DJANGO_"))}
    env.update(devkeys.generate_keys())
    env.update(
        RAKSA_ENV="production",
        ALLOWED_HOSTS="e-service.example.go.th",
        RAKSA_SMTP_HOST="127.0.0.1",
        DATABASE_URL="postgres://raksa@127.0.0.1:5432/raksa",
        RAKSA_KEYSTORE_URL="postgres://raksa@127.0.0.1:5432/raksa_keys",
    )
    env.update(overrides)
    return env


def _raksa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "raksa.cli", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


class ProductionSettingsTests(SimpleTestCase):
    def test_it_passes_the_deployment_check_without_a_warning(self) -> None:
        result = _raksa("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
        self.assertEqual(result.returncode, 0, result.stderr + result.stdout)
        self.assertIn("no issues", result.stdout)

    def test_it_refuses_to_start_without_each_key(self) -> None:
        for name in devkeys.KEY_NAMES:
            env = _production_env()
            del env[name]
            result = _raksa("check", env=env)
            self.assertNotEqual(result.returncode, 0, name)
            self.assertIn(f"{name} is required when RAKSA_ENV=production", result.stderr)

    def test_it_refuses_debug_in_production(self) -> None:
        result = _raksa("check", env=_production_env(DEBUG="true"))
        self.assertIn("DEBUG must be off", result.stderr)

    def test_it_refuses_production_without_allowed_hosts_or_mail(self) -> None:
        self.assertIn("ALLOWED_HOSTS is required", _raksa("check", env=_production_env(ALLOWED_HOSTS="")).stderr)
        self.assertIn("RAKSA_SMTP_HOST is required", _raksa("check", env=_production_env(RAKSA_SMTP_HOST="")).stderr)


class EnvironmentReaderTests(SimpleTestCase):
    def test_it_reads_booleans_and_refuses_anything_else(self) -> None:
        os.environ["RAKSA_TEST_FLAG"] = "yes"
        try:
            self.assertTrue(env_bool("RAKSA_TEST_FLAG"))
            os.environ["RAKSA_TEST_FLAG"] = "maybe"
            with self.assertRaisesMessage(ImproperlyConfigured, "RAKSA_TEST_FLAG must be true or false, not 'maybe'"):
                env_bool("RAKSA_TEST_FLAG")
        finally:
            del os.environ["RAKSA_TEST_FLAG"]

    def test_it_refuses_numbers_that_are_not_or_too_small(self) -> None:
        os.environ["RAKSA_TEST_DAYS"] = "ninety"
        try:
            with self.assertRaisesMessage(ImproperlyConfigured, "must be a whole number"):
                env_int("RAKSA_TEST_DAYS", 90)
            os.environ["RAKSA_TEST_DAYS"] = "30"
            with self.assertRaisesMessage(ImproperlyConfigured, "must be at least 90, not 30"):
                env_int("RAKSA_TEST_DAYS", 90, minimum=90)
        finally:
            del os.environ["RAKSA_TEST_DAYS"]

    def test_it_refuses_an_unknown_choice(self) -> None:
        os.environ["RAKSA_TEST_ENV"] = "staging"
        try:
            with self.assertRaisesMessage(ImproperlyConfigured, "must be one of"):
                env_choice("RAKSA_TEST_ENV", "development", {"development", "production"})
        finally:
            del os.environ["RAKSA_TEST_ENV"]

    def test_it_reads_database_urls(self) -> None:
        relative = database_from_url("X", "sqlite:///var/raksa.sqlite3")
        self.assertEqual(relative["NAME"], "var/raksa.sqlite3")
        self.assertEqual(database_from_url("X", "sqlite:////srv/raksa.db")["NAME"], "/srv/raksa.db")
        postgres = database_from_url("X", "postgres://app:s%40cret@db.internal:6543/raksa")
        self.assertEqual(
            (postgres["USER"], postgres["PASSWORD"], postgres["HOST"], postgres["PORT"], postgres["NAME"]),
            ("app", "s@cret", "db.internal", "6543", "raksa"),
        )
        for bad in ("mysql://x/y", "postgres://host/", "sqlite://"):
            with self.assertRaises(ImproperlyConfigured):
                database_from_url("X", bad)
