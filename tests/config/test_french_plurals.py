"""French counts zero as singular (« 0 commission »): the French catalogue holds every plural
message of the code (config/french_plurals.py, written by ``make plurals``)."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.templatetags.i18n import BlockTranslateNode
from django.urls import reverse
from django.utils import translation

from certifications.models import Role
from config.french_plurals import PLURAL_FORMS, plurals_only
from tests.factories import member

BASE_DIR = Path(settings.BASE_DIR)
CODE_DIRS = ("certifications", "candidates", "commissions", "evaluations", "reporting",
             "config")
PLURAL_FUNCTIONS = {"ngettext": 0, "ngettext_lazy": 0, "npgettext": 1, "npgettext_lazy": 1}
MAKE_PLURALS = "lancez `make plurals` (puis committez locale/fr)"


def template_plurals() -> list[tuple[str, str, str, str]]:
    """(where, context, singular, plural) of every ``{% blocktranslate count %}`` of the
    project's templates, as the template passes them to gettext when it renders."""
    engine = engines["django"]
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    roots += [BASE_DIR / app / "templates" for app in CODE_DIRS]
    found = []
    for root in (r for r in roots if r.is_dir()):
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".html", ".txt") or not path.is_file():
                continue
            name = path.relative_to(root).as_posix()
            nodelist = engine.get_template(name).template.nodelist
            for node in nodelist.get_nodes_by_type(BlockTranslateNode):
                if not node.plural:
                    continue
                context = node.message_context.resolve({}) if node.message_context else ""
                singular = node.render_token_list(node.singular)[0]
                plural = node.render_token_list(node.plural)[0]
                found.append((name, context, singular, plural))
    return found


def python_plurals() -> list[tuple[str, str, str, str]]:
    """(where, context, singular, plural) of every ``ngettext`` call of the code."""
    found = []
    for directory in CODE_DIRS:
        for path in sorted((BASE_DIR / directory).rglob("*.py")):
            for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(call, ast.Call):
                    continue
                name = getattr(call.func, "id", getattr(call.func, "attr", ""))
                if name not in PLURAL_FUNCTIONS:
                    continue
                first = PLURAL_FUNCTIONS[name]
                args = [a.value if isinstance(a, ast.Constant) else None for a in call.args]
                context = args[0] if first else ""
                where = f"{path.relative_to(BASE_DIR)}:{call.lineno}"
                assert all(isinstance(a, str) for a in args[:first + 2]), (
                    f"{where} : message pluriel non littéral, introuvable par makemessages")
                found.append((where, context, args[first], args[first + 1]))
    return found


def chosen(context: str, singular: str, plural: str, count: int) -> str:
    if context:
        return translation.npgettext(context, singular, plural, count)
    return translation.ngettext(singular, plural, count)


def test_the_extraction_finds_the_plural_messages_of_templates_and_code():
    templates, code = template_plurals(), python_plurals()

    assert ("commissions/commission_list.html", "", "%(n)s commission",
            "%(n)s commissions") in templates
    assert any(s == "%(count)d inscription créée" for _, _, s, _ in code)
    assert len(templates) >= 20 and len(code) >= 15


@pytest.mark.parametrize("source", ["templates", "code"])
def test_every_plural_message_follows_the_french_rule(source):
    if not (BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.mo").exists():
        pytest.fail("locale/fr/LC_MESSAGES/django.mo absent : lancez `make messages`.")
    messages = template_plurals() if source == "templates" else python_plurals()
    wrong = []
    with translation.override("fr"):
        for where, context, singular, plural in messages:
            got = [chosen(context, singular, plural, n) for n in (0, 1, 2)]
            if got != [singular, singular, plural]:
                wrong.append(f"{where} : « {singular} » / « {plural} »")

    assert not wrong, (f"Messages absents du catalogue français ({MAKE_PLURALS}) :\n"
                       + "\n".join(wrong))


def test_the_french_catalogue_holds_plural_messages_only():
    catalogue = (BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.po").read_text(
        encoding="utf-8")

    # Each plural message translated by itself, nothing else: a singular entry would shadow
    # Django's own French for a message both share.
    assert catalogue == plurals_only(catalogue), MAKE_PLURALS
    assert f'"Plural-Forms: {PLURAL_FORMS}\\n"' in catalogue
    assert "fuzzy" not in catalogue


def test_plurals_only_keeps_plural_messages_translated_by_themselves():
    written = """# SOME DESCRIPTIVE TITLE.
#, fuzzy
msgid ""
msgstr ""
"POT-Creation-Date: 2026-11-26 10:00+0100\\n"
"Plural-Forms: nplurals=3; plural=(n == 0 || n == 1) ? 0 : 2;\\n"

#: candidates/views.py:10
msgid "Candidats"
msgstr ""

#: candidates/imports.py:146
#, fuzzy, python-format
#| msgid "%(count)d inscription"
msgid "%(count)d inscription créée"
msgid_plural ""
"%(count)d inscriptions "
"créées"
msgstr[0] ""
msgstr[1] ""

#~ msgid "Ancien"
#~ msgid_plural "Anciens"
#~ msgstr[0] ""
"""
    kept = plurals_only(written)

    assert "Candidats" not in kept and "Ancien" not in kept and "POT-Creation" not in kept
    assert kept.endswith('''#, python-format
msgid "%(count)d inscription créée"
msgid_plural ""
"%(count)d inscriptions "
"créées"
msgstr[0] "%(count)d inscription créée"
msgstr[1] ""
"%(count)d inscriptions "
"créées"
''')
    assert f'"Plural-Forms: {PLURAL_FORMS}\\n"' in kept
    assert plurals_only(kept) == kept


@pytest.mark.django_db
def test_a_list_of_no_commission_says_so_in_the_singular(client):
    client.force_login(member(Role.STAFF))

    response = client.get(reverse("commissions:commission_list"))

    assert response.status_code == 200
    count = response.content.decode().split('data-testid="result-count">')[1].split("</p>")[0]
    assert count.strip() == "0 commission"
