from django.core.management.base import BaseCommand, CommandError, CommandParser

from raksa.accounts import actions
from raksa.accounts.forms import StaffAccountForm
from raksa.organisations.models import Agency, StaffRole


class Command(BaseCommand):
    help = (
        "Creates a staff account in an agency and mails its owner a link to set the password "
        "(the first administrator of an agency; later ones are added on the agency's staff page)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", required=True, help="the agency's slug")
        parser.add_argument("--role", required=True, choices=StaffRole.values)
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True, help="where the link to set the password goes")
        parser.add_argument("--site-url", default="http://127.0.0.1:8000", help="the site's address, for the link")
        parser.add_argument("--language", default="th", choices=["th", "en"])

    def handle(self, *args: object, **options: str) -> None:
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with the slug {options['agency']!r}")
        form = StaffAccountForm({"username": options["username"], "email": options["email"], "role": options["role"]})
        if not form.is_valid():
            raise CommandError(
                "; ".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in form.errors.items())
            )
        user = actions.create_staff_account(
            actor=None,
            agency=agency,
            role=form.cleaned_data["role"],
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            origin=options["site_url"],
            language=options["language"],
        )
        self.stdout.write(
            f"Created staff account {user.username} ({user.pk}); the link to set its password was mailed."
        )
