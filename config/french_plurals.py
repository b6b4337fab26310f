"""The French catalogue, plural messages only: ``python -m config.french_plurals PO``.

The source strings are French, so the French catalogue need not translate anything, except
for one thing gettext cannot know without it: French counts zero as singular (« 0
inscription »), while a message missing from every catalogue falls back to the English rule
(« 0 inscriptions »). ``make plurals`` lets ``makemessages -l fr`` write every message of the
code into ``locale/fr/LC_MESSAGES/django.po``, then this keeps only the plural ones, each
translated by itself, under French's plural rule. Singular messages stay out: kept, they
would shadow Django's own French for any message both share.

``tests/config/test_french_plurals.py`` fails when a plural message of the code is missing.
"""

import re
import sys
from pathlib import Path

PLURAL_FORMS = "nplurals=2; plural=(n > 1);"
_KEYWORD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$')


def _sections(block: str) -> tuple[list[str], dict[str, list[str]]]:
    """A catalogue entry as its comment lines and its keywords' quoted lines, in order."""
    comments, sections, current = [], {}, None
    for line in block.splitlines():
        match = _KEYWORD.match(line)
        if match:
            current = match.group(1)
            sections[current] = [match.group(2)]
        elif line.startswith('"') and current is not None:
            sections[current].append(line)
        elif line.startswith("#"):
            comments.append(line)
    return comments, sections


def _entry(comments: list[str], sections: dict[str, list[str]]) -> str:
    # The flags (python-format…), but not « fuzzy »: the translation is the message itself.
    flags = [f.strip() for c in comments if c.startswith("#,") for f in c[2:].split(",")]
    flags = [f for f in flags if f and f != "fuzzy"]
    lines = [f"#, {', '.join(flags)}"] if flags else []
    for keyword in ("msgctxt", "msgid", "msgid_plural"):
        if keyword in sections:
            lines.append(f"{keyword} " + "\n".join(sections[keyword]))
    lines.append("msgstr[0] " + "\n".join(sections["msgid"]))
    lines.append("msgstr[1] " + "\n".join(sections["msgid_plural"]))
    return "\n".join(lines)


# Fixed, without dates, so that the file changes only when a message does; not « fuzzy »
# (msgfmt would drop the header, and with it the plural rule).
HEADER = f"""\
# French catalogue of the UIMM certification manager: its plural messages only.
# Written by `make plurals` (config/french_plurals.py): do not edit by hand.
msgid ""
msgstr ""
"Project-Id-Version: uimm-certification\\n"
"Language: fr\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: {PLURAL_FORMS}\\n\""""


def plurals_only(text: str) -> str:
    """``text`` (a catalogue as ``makemessages`` writes it) reduced to its header and its
    plural messages, each translated by itself, sorted so that the file changes only when a
    message does. Obsolete entries (``#~``) are dropped."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    head = next((b for b in blocks if re.search(r'^msgid ""\nmsgstr ""', b, re.M)), None)
    if head is None:
        raise ValueError("catalogue sans en-tête (msgid \"\")")
    entries = {}
    for block in blocks:
        if block is head or block.lstrip().startswith("#~"):
            continue
        comments, sections = _sections(block)
        if "msgid_plural" in sections:
            key = "".join(sections.get("msgctxt", [])) + "\x04" + "".join(sections["msgid"])
            entries[key] = _entry(comments, sections)
    return "\n\n".join([HEADER, *(entries[k] for k in sorted(entries))]) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage : python -m config.french_plurals locale/fr/LC_MESSAGES/django.po",
              file=sys.stderr)
        return 2
    path = Path(argv[0])
    path.write_text(plurals_only(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
