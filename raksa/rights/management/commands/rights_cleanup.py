from django.core.management.base import BaseCommand

from raksa.rights import exports


class Command(BaseCommand):
    help = (
        "Empties downloads of one's data whose link expired unused, fails abandoned ones, and deletes "
        "the rows of finished downloads after 30 days (run it hourly or daily, beside accounts_cleanup)."
    )

    def handle(self, *args: object, **options: object) -> None:
        expired, deleted = exports.forget_stale_exports()
        self.stdout.write(f"Emptied {expired} expired downloads and deleted {deleted} finished ones.")
