from django.core.management.base import BaseCommand, CommandParser

from raksa import devkeys
from raksa.vault.actions import rotate_master_key


class Command(BaseCommand):
    help = (
        "generate: prints a fresh set of keys as NAME=VALUE lines. "
        "rotate: re-wraps every data key, and the access log's day keys, under RAKSA_MASTER_KEY "
        "(old keys in RAKSA_PREVIOUS_MASTER_KEYS)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["generate", "rotate"])

    def handle(self, *args: object, action: str, **options: object) -> None:
        if action == "generate":
            for name, value in devkeys.generate_keys().items():
                self.stdout.write(f"{name}={value}")
            return
        rotation = rotate_master_key()
        self.stdout.write(f"re-wrapped {rotation.rewrapped} data keys under master key {rotation.master_key_id}")
        for name, count in rotation.others.items():
            self.stdout.write(f"re-wrapped {count} {name}")
