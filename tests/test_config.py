"""Settings: defaults, the documented example, and clear errors for bad files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from custlens.config import RFM_BINS, Settings, load_settings
from custlens.errors import ConfigError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_default_segment_table_is_a_partition() -> None:
    rfm = Settings().rfm
    names = {rfm.segment_of(r, fm).name for r in range(1, 6) for fm in range(1, 6)}
    assert len(names) == 11  # the eleven classic segments, each reachable
    assert rfm.segment_of(5, 5).name == "Champions"
    assert rfm.segment_of(1, 1).name == "Lost"
    assert rfm.segment_of(1, 5).name == "Can't Lose Them"


def test_documented_example_parses(tmp_path: Path) -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    path = tmp_path / "custlens.toml"
    path.write_text(example, encoding="utf-8")
    settings = load_settings(path)
    assert settings.seed == 7
    assert settings.mapping.columns["customer_id"] == "Kunde"
    assert settings.cleaning.countries == ["United Kingdom", "EIRE"]
    assert [s.name for s in settings.rfm.segments] == ["Best", "Rest", "Fading"]
    assert settings.rfm.segment_of(2, 5).name == "Fading"


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "custlens.toml"
    path.write_text('[cleaning]\nmode = "minimal"\n', encoding="utf-8")
    assert load_settings(path).cleaning.mode == "minimal"
    assert load_settings(path, **{"cleaning.mode": "default"}).cleaning.mode == "default"


def test_minimal_mode_keeps_only_the_first_three_rules() -> None:
    rules = Settings().with_overrides(**{"cleaning.mode": "minimal"}).cleaning.active_rules()
    assert [k for k, on in rules.items() if on] == [
        "missing_customer",
        "cancellations_and_returns",
        "nonpositive_price",
        "implausible_date",  # invalid data: removed in every mode
        "invalid_numbers",
    ]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[cleaning]\nmode = 'aggressive'\n", "cleaning.mode"),
        ("[cleaning\n", "not valid TOML"),
        ("colour = 'blue'\n", "colour"),
        (
            "[[rfm.segments]]\nname='All'\nr=[1,5]\nfm=[1,4]\ndescription='x'\naction='y'\n",
            f"FM={RFM_BINS}",
        ),
    ],
)
def test_bad_config_files(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "custlens.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
