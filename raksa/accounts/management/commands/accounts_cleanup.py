from django.core.management.base import BaseCommand

from raksa.accounts import actions


class Command(BaseCommand):
    help = "Deletes expired or used e-mail links and forgotten log-in failures (run it daily, beside clearsessions)."

    def handle(self, *args: object, **options: object) -> None:
        tokens, throttles = actions.forget_stale_records()
        self.stdout.write(f"Deleted {tokens} old links and {throttles} forgotten log-in failure counts.")
