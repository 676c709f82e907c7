from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from raksa.content import demo as content_demo
from raksa.core import demo
from raksa.disclosures import demo as disclosures_demo
from raksa.organisations.models import Controller


class Command(BaseCommand):
    help = "Loads the demo organisations and accounts (development only) and prints the demo accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="do nothing if the demo data is already there")

    def handle(self, *args: object, once: bool, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo data is never loaded when RAKSA_ENV=production.")
        if once and Controller.objects.filter(slug=demo.MINISTRY["slug"]).exists():
            self.stdout.write("Demo data already loaded.")
        else:
            agencies = demo.load_organisations()
            demo.load_accounts()
            self.stdout.write(f"Loaded demo organisations: {', '.join(a.name_en for a in agencies)}.")
        # Services arrived after the first demo databases were made: idempotent, before the policies
        # that must cover their fields.
        demo.load_services()
        # Recipients too: a policy names them, and nothing is disclosed to one it does not cover.
        disclosures_demo.load()
        # Idempotent: publishes only the policies that have no published version yet.
        demo.load_policies()
        # Content arrived after the first demo databases were made: it loads into those too.
        content_demo.load()
        for line in demo.account_lines():
            self.stdout.write(line)
