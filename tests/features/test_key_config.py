"""`picus keys new`, key entries in the configuration, and the constant-time key check."""

import hmac
from pathlib import Path

import pytest

from picus.apikeys import KeyRing, new_key, parse_entries
from picus.cli import main
from picus.config import ConfigError, load_settings


def test_keys_new_prints_a_key_once_and_an_entry_that_accepts_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["keys", "new", "--scope", "write"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]
    key, entry_line = lines
    assert key.startswith("picus_")
    assert key not in entry_line  # only the salted hash is configured
    (entry,) = parse_entries(entry_line)
    assert entry.scope == "write"
    assert KeyRing([entry]).match(key) == entry
    assert KeyRing([entry]).match(key + "x") is None
    assert main(["keys", "new", "--scope", "read"]) == 0
    assert key not in capsys.readouterr().out  # a new key every time


def test_keys_new_works_even_when_keys_are_required_but_none_exist(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PICUS_REQUIRE_API_KEYS", "true")
    assert main(["keys", "new", "--scope", "read"]) == 0
    assert "read:hmac-sha256:" in capsys.readouterr().out


def test_keys_come_from_the_environment_and_from_a_secret_file(tmp_path: Path) -> None:
    _, inline = new_key("write")
    _, in_file = new_key("read")
    second, third = new_key("read")[1], new_key("write")[1]
    secret = tmp_path / "picus_api_keys"
    secret.write_text(
        f"# made on 2026-11-26 for the reporting job\n\n{in_file.line()}  # ro\n"
        f"{second.line()},{third.line()}\n"  # a Compose secret made from one variable
    )
    settings = load_settings(api_keys=inline.line(), api_keys_file=secret)
    assert settings.api_key_entries == (inline, in_file, second, third)


def test_without_configuration_there_are_no_keys() -> None:
    assert load_settings().api_key_entries == ()


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"api_keys": "picus_plain-text-key"}, "PICUS_API_KEYS"),
        ({"api_keys_file": "/nonexistent/picus_api_keys"}, "PICUS_API_KEYS_FILE"),
        ({"require_api_keys": True}, "PICUS_REQUIRE_API_KEYS"),
    ],
    ids=["plain-key", "missing-file", "required-but-none"],
)
def test_a_bad_key_setting_stops_start_up_with_one_line_that_never_echoes_it(
    overrides: dict[str, object], variable: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    message = str(caught.value)
    assert variable in message
    assert "\n" not in message
    assert "plain-text-key" not in message


def test_a_bad_line_in_the_secret_file_is_named_by_number(tmp_path: Path) -> None:
    secret = tmp_path / "keys"
    secret.write_text(f"{new_key('read')[1].line()}\nwrite:md5:abc\n")
    with pytest.raises(ConfigError, match="line 2"):
        load_settings(api_keys_file=secret)


def test_matching_hashes_every_entry_with_a_constant_time_compare(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No early exit: the first entry matching costs as much as none matching."""
    pairs = [new_key("read") for _ in range(4)]
    ring = KeyRing(entry for _, entry in pairs)
    calls: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest

    def counting_compare(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr("picus.apikeys.hmac.compare_digest", counting_compare)
    assert ring.match(pairs[0][0]) == pairs[0][1]
    assert len(calls) == 4
    calls.clear()
    assert ring.match("picus_guess") is None
    assert len(calls) == 4
