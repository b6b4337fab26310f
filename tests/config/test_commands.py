"""Every command of the project explains itself with --help (a lazy help text crashed it)."""

import pytest
from django.core.management import get_commands, load_command_class

PROJECT_APPS = {"certifications", "candidates", "commissions", "evaluations", "reporting"}
COMMANDS = sorted((name, app) for name, app in get_commands().items() if app in PROJECT_APPS)


def test_the_project_has_commands():
    assert {"seed_demo", "import_referential", "export_referential"} <= {n for n, _ in COMMANDS}


@pytest.mark.parametrize(("name", "app"), COMMANDS)
def test_help_renders(name, app):
    command = load_command_class(app, name)
    text = command.create_parser("manage.py", name).format_help()
    assert str(command.help)[:20] in text.replace("\n", " ") or command.help in text
