"""Thai first: every string the code and templates mark for translation has a Thai translation.

The catalogues are regenerated from the sources in a scratch copy of the tree (so the checkout is
never rewritten) and every entry must carry a Thai msgstr that a person checked (none fuzzy).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _entries(po: Path, *flags: str) -> list[str]:
    """The msgids `msgattrib` selects from one catalogue (the header excluded)."""
    output = subprocess.run(
        ["msgattrib", "--no-obsolete", *flags, str(po)], check=True, capture_output=True, text=True
    ).stdout
    blocks = output.split("\n\n")
    return [block.strip() for block in blocks if "msgid" in block and 'msgid ""\nmsgstr ""\n"' not in block]


@pytest.mark.skipif(shutil.which("msgattrib") is None, reason="GNU gettext (msgattrib) is not installed")
def test_it_translates_every_marked_string_into_thai(tmp_path: Path) -> None:
    # The tests stay in the copy (the test settings install test apps) but their strings are not the site's.
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("raksa", "templates", "locale"):
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(ROOT / "manage.py", tree / "manage.py")
    made = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "th", "--ignore", "*/tests/*", "--verbosity", "0"],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr

    gaps = {}
    for po in sorted(tree.rglob("locale/th/LC_MESSAGES/django.po")):
        missing = _entries(po, "--untranslated") + _entries(po, "--only-fuzzy")
        if missing:
            gaps[str(po.relative_to(tree))] = missing
    assert not gaps, "strings without a checked Thai translation (fill them, then `make messages`):\n" + "\n\n".join(
        f"{path}:\n" + "\n".join(entries) for path, entries in gaps.items()
    )
