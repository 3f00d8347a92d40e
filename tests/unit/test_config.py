
from assistant.config import Settings


def test_every_setting_has_help_text():
    assert all(f.description for f in Settings.model_fields.values())


def test_environment_overrides_and_cli_overrides(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    s = Settings()
    assert s.top_k == 9
    assert s.with_overrides(top_k=3, index_name=None).top_k == 3
    assert s.with_overrides().top_k == 9
