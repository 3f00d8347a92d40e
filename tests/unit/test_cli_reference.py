"""The README's command reference and settings table are what the code says (regenerate with
``python -m assistant.cli.reference --write``)."""

from __future__ import annotations

import re

from assistant.cli.reference import README, cli_reference, render, settings_table
from assistant.config import Settings


def test_the_readme_command_reference_and_settings_table_are_current():
    text = README.read_text(encoding="utf-8")
    assert render(text) == text, "README.md is stale: run python -m assistant.cli.reference --write"


def test_the_reference_covers_every_command_and_setting():
    ref = cli_reference()
    for command in ("ingest", "search", "ask", "summarize", "draft-reply", "draft-report", "serve", "user add",
                    "audit verify", "eval", "index info", "semantic fill"):
        assert f"<code>assistant {command}</code>" in ref
    table = settings_table()
    rows = re.findall(r"^\| `ASSISTANT_([A-Z0-9_]+)` \|", table, re.M)
    assert sorted(r.lower() for r in rows) == sorted(Settings.model_fields)


def test_choices_shown_to_users_come_from_the_registries():
    from assistant.generate.factory import generator_names
    from assistant.ingest.base import supported_extensions

    ref = cli_reference()
    ingest_help = ref.split("<code>assistant ingest</code>")[0]   # the top-level command list
    for ext in supported_extensions():
        assert ext.lstrip(".").upper() in ingest_help
    ask_help = ref.split("<code>assistant ask</code>")[1].split("</details>")[0]
    assert all(name in ask_help for name in generator_names())
