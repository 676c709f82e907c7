from django.core.management.base import BaseCommand, CommandError, CommandParser

from raksa.accounts import actions
from raksa.accounts.models import User


class Command(BaseCommand):
    help = "Deactivates an account and ends its sessions at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: object, username: str, **options: object) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no account with the user ID {username!r}")
        actions.deactivate_account(actor=None, user=user)
        self.stdout.write(f"Deactivated {username}; its sessions have ended.")
