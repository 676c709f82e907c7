"""Fill empty msgstr entries of a .po file from a JSON object {"English": "ไทย"}.

Usage: python tools/pofill.py LOCALE/th/LC_MESSAGES/django.po translations.json
Prints the msgids still untranslated, so nothing is left in English by accident.
"""

import json
import re
import sys
from pathlib import Path

ENTRY = re.compile(r'(msgid (?:"(?:[^"\\]|\\.)*"\n)+)(msgstr "")\n(?!")', re.MULTILINE)


def _text(block: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', block)
    return "".join(parts).encode().decode("unicode_escape").encode("latin-1").decode()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main(po_path: str, json_path: str) -> int:
    po = Path(po_path)
    translations = json.loads(Path(json_path).read_text())
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        msgid = _text(match.group(1))
        if not msgid:
            return match.group(0)
        if msgid in translations:
            return f"{match.group(1)}msgstr {_quote(translations[msgid])}\n"
        missing.append(msgid)
        return match.group(0)

    text = ENTRY.sub(fill, po.read_text())
    text = text.replace('#, fuzzy\nmsgid ""', 'msgid ""', 1)
    po.write_text(text)
    for msgid in missing:
        print(f"untranslated: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
