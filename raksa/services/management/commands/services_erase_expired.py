from django.core.management.base import BaseCommand

from raksa.services.actions import erase_expired_registrations


class Command(BaseCommand):
    help = "Erases the values of registrations whose case closed longer ago than their service keeps them."

    def handle(self, *args: object, **options: object) -> None:
        erased = erase_expired_registrations()
        self.stdout.write(f"Erased the values of {erased} registration(s).")
