"""Every action the web app writes to the audit log has a Korean label for the audit view and its CSV."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.web.audit import ACTIONS

WEB = Path(__file__).resolve().parents[2] / "assistant" / "web"
_CALL = re.compile(r"audit\(\s*\w+,\s*\w+,\s*\"([a-z_]+)\"")
_CHAT_ACTIONS = re.compile(r"action\s*=\s*\{([^}]*)\}\[mode\]")


def test_every_audited_action_has_a_label():
    used: set[str] = set()
    for path in WEB.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(_CALL.findall(text))
        for mapping in _CHAT_ACTIONS.findall(text):
            used |= set(re.findall(r":\s*\"([a-z_]+)\"", mapping))
    assert {"ask", "draft_reply", "draft_report", "export_draft_report", "upload"} <= used  # the scan sees calls
    missing = sorted(used - set(ACTIONS))
    assert not missing, f"audit actions without a label in assistant/web/audit.py ACTIONS: {missing}"
