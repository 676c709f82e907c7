from django.core.management.base import BaseCommand, CommandParser

from raksa import devkeys
from raksa.vault.actions import rotate_index_key, rotate_master_key


class Command(BaseCommand):
    help = (
        "generate: prints a fresh set of keys as NAME=VALUE lines. "
        "rotate: re-wraps every data key, and the access log's day keys, under RAKSA_MASTER_KEY "
        "(old keys in RAKSA_PREVIOUS_MASTER_KEYS). "
        "rotate-index: recomputes every blind index under RAKSA_INDEX_KEY (old keys in "
        "RAKSA_PREVIOUS_INDEX_KEYS, which look-ups accept until it is done); resumes where it stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["generate", "rotate", "rotate-index"])
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (rotate-index)")

    def handle(self, *args: object, action: str, batch_size: int, **options: object) -> None:
        if action == "generate":
            for name, value in devkeys.generate_keys().items():
                self.stdout.write(f"{name}={value}")
            return
        if action == "rotate-index":
            index = rotate_index_key(batch_size=batch_size)
            self.stdout.write(
                f"recomputed {index.recomputed} blind indexes under index key {index.key_id}; "
                f"dropped {index.dropped} whose value is gone"
            )
            return
        rotation = rotate_master_key()
        self.stdout.write(f"re-wrapped {rotation.rewrapped} data keys under master key {rotation.master_key_id}")
        for name, count in rotation.others.items():
            self.stdout.write(f"re-wrapped {count} {name}")
