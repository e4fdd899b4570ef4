"""Settings: defaults, the TOML file, environment overrides, and errors that name the key."""

from __future__ import annotations

import pytest

from knowledge.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for var in [v for v in __import__("os").environ if v.startswith("TACIT_")]:
        monkeypatch.delenv(var)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)


def test_no_file_gives_the_embedded_defaults():
    s = load_settings()
    assert s.database.url.startswith("sqlite+aiosqlite:///")
    assert s.chroma.url == "" and not s.llm.enabled and s.pay.default_rate == 105.0


def test_the_file_is_read_and_the_environment_wins(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[interview]\nmax_followups = 1\n[chroma]\nurl = "http://chroma:8000"\n')
    monkeypatch.setenv("TACIT_INTERVIEW__MAX_FOLLOWUPS", "3")
    s = load_settings()
    assert s.chroma.url == "http://chroma:8000" and s.interview.max_followups == 3


def test_tacit_config_points_at_another_file(tmp_path, monkeypatch):
    other = tmp_path / "elsewhere.toml"
    other.write_text("[pay]\ndefault_rate = 350\n")
    monkeypatch.setenv("TACIT_CONFIG", str(other))
    assert load_settings().pay.default_rate == 350


def test_the_example_config_is_valid_and_documents_every_key():
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    s = load_settings(example)
    text = example.read_text()
    for section, model in s:
        if hasattr(model, "model_fields"):
            for key in type(model).model_fields:
                documented = (f"{key} ", f"{key}=", f"# {key}", f".{key}]")
                assert any(d in text for d in documented), (
                    f"config.example.toml does not document {section}.{key}"
                )


@pytest.mark.parametrize(
    "content, expected",
    [
        ("[interview]\nmax_followups = 'x'\n", "interview.max_followups:"),
        ("[databse]\nurl = 'x'\n", "databse: unknown key"),
        ("[llm]\ntemperature = 9\n", "llm.temperature:"),
        ("[interview\n", "config.toml"),
    ],
)
def test_a_bad_value_names_the_key(tmp_path, content, expected):
    (tmp_path / "config.toml").write_text(content)
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert expected in str(e.value)


def test_an_unknown_environment_setting_is_refused(monkeypatch):
    monkeypatch.setenv("TACIT_DATABSE__URL", "sqlite+aiosqlite:///x.db")
    with pytest.raises(ConfigError, match="TACIT_DATABSE__URL: unknown setting"):
        load_settings()


def test_the_discord_token_comes_from_the_environment_and_never_shows(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "MTIz.secret-token")
    s = load_settings()
    assert s.discord.token.get_secret_value() == "MTIz.secret-token"
    assert "secret-token" not in repr(s) and "secret-token" not in str(s.model_dump())


def test_a_bad_secret_is_not_echoed(tmp_path):
    (tmp_path / "config.toml").write_text("[llm]\napi_key = 12345678\n")
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert "12345678" not in str(e.value)


def test_the_home_server_must_be_one_the_bot_serves(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[discord]\nhome_guild_id = 22\nallowed_guilds = [11]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="discord: .*home_guild_id 22 is not in allowed_guilds"):
        load_settings(path)
    path.write_text("[discord]\nhome_guild_id = 11\nallowed_guilds = [11]\n", encoding="utf-8")
    d = load_settings(path).discord
    assert d.serves(11) and not d.serves(33) and d.serves(None)  # DMs are always served


def test_shard_ids_come_from_the_environment_and_pick_the_servers(monkeypatch):
    monkeypatch.setenv("TACIT_DISCORD__SHARDS", "2")
    monkeypatch.setenv("TACIT_DISCORD__SHARD_IDS", "[1]")
    d = load_settings().discord
    assert d.shard_ids == [1]
    on_1, on_0 = (5 << 22) | 77, 4 << 22
    assert d.runs_shard_of(on_1) and not d.runs_shard_of(on_0)
    assert not d.runs_shard_of(None)  # DMs arrive on shard 0, served elsewhere


def test_a_shard_outside_the_total_names_the_key(monkeypatch):
    monkeypatch.setenv("TACIT_DISCORD__SHARDS", "2")
    monkeypatch.setenv("TACIT_DISCORD__SHARD_IDS", "[2]")
    with pytest.raises(ConfigError, match=r"^discord: .*shard_ids \[2\] outside 0\.\.1"):
        load_settings()
