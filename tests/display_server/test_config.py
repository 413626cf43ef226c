"""Loading and checking the ward configuration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from display_server.cli import main
from display_server.config import EXAMPLE_CONFIG, load_config, parse_config
from display_server.errors import ConfigError

MINIMAL = """
name = { ja = "区", en = "Ward" }
[[sites]]
id = "s1"
name = { ja = "事務所", en = "Office" }
[sites.hours.mon]
open = 08:30:00
cutoff = 16:45:00
close = 17:00:00
[[sites.services]]
id = "moving"
name = { ja = "転入", en = "Moving in" }
[[sites.counters]]
id = "s1-1"
name = { ja = "1番", en = "No. 1" }
label = "1"
services = ["moving"]
"""


def test_example_has_the_planned_sites_and_17_counters() -> None:
    config = load_config()
    names = {site.name.ja for site in config.sites}
    assert {"練馬区民事務所", "光が丘区民事務所", "石神井区民事務所", "保育課入園相談係"} <= names
    assert sum(1 for _ in config.counters()) == 17
    assert config.example


def test_minimal_config_parses() -> None:
    config = parse_config(MINIMAL)
    assert config.site("s1") is not None and config.counter("s1-1") is not None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('services = ["moving"]', 'services = ["nope"]'),
            "sites['s1']: Value error, counter 's1-1' serves unknown services ['nope']",
        ),
        (
            ("cutoff = 16:45:00", "cutoff = 18:00:00"),
            "sites['s1'].hours.mon: Value error, hours must satisfy",
        ),
        (
            ('id = "moving"', 'id = "Moving!"'),
            "sites['s1'].services['Moving!'].id: String should match pattern",
        ),
        (
            ("[sites.hours.mon]", "[sites.hours.monday]"),
            "sites['s1'].hours: Value error, unknown weekday(s) ['monday']",
        ),
        (
            ("[sites.hours.mon]", "[sites.planned_counters]\nmonday = 2\n[sites.hours.mon]"),
            "sites['s1'].planned_counters: Value error, unknown weekday(s) ['monday']",
        ),
        (
            ("[sites.hours.mon]", "[sites.planned_counters]\nmon = -1\n[sites.hours.mon]"),
            "sites['s1']: Value error, planned_counters.mon: -1 counter(s) planned, where the "
            "site has 1; give 0 to 1",
        ),
        (
            ("[sites.hours.mon]", '[sites.planned_counters]\nmon = { "12:00" = 2 }\n'
             "[sites.hours.mon]"),
            "sites['s1']: Value error, planned_counters.mon: 2 counter(s) planned",
        ),
        (
            ("[sites.hours.mon]", '[sites.planned_counters]\nmon = { "12h" = 1 }\n'
             "[sites.hours.mon]"),
            "sites['s1']: Value error, planned_counters.mon: '12h' is not a time of day (HH:MM)",
        ),
        (
            ("[sites.hours.mon]", '[sites.planned_counters]\nmon = { "09:00" = 1 }\n'
             "[sites.hours.mon]"),
            "sites['s1']: Value error, planned_counters.mon: the plan starts at 09:00, after the "
            "site opens at 08:30; say how many counters are open from 08:30",
        ),
        (
            ('label = "1"', 'label = "1"\nextra = 3'),
            "sites['s1'].counters['s1-1'].extra: Extra inputs are not permitted",
        ),
    ],
)
def test_each_problem_names_the_key_and_reason(change: tuple[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(MINIMAL.replace(*change), source="ward.toml")
    assert any(p.startswith(f"ward.toml: {expected}") for p in error.value.problems), (
        error.value.problems
    )


def test_a_counter_plan_counts_from_each_time_on() -> None:
    lunch = '[sites.planned_counters]\nmon = { "13:00" = 1, "08:30" = 1, "12:00" = 0 }\n'
    site = parse_config(MINIMAL.replace("[sites.hours.mon]", lunch + "[sites.hours.mon]")).sites[0]
    monday, tuesday = dt.date(2026, 11, 30), dt.date(2026, 12, 1)
    assert site.counter_plan(monday) == (
        (dt.time(8, 30), 1), (dt.time(12), 0), (dt.time(13), 1),
    )
    assert site.counter_plan(tuesday) is None  # all counters, all day
    whole_day = site.model_copy(update={"planned_counters": {"tue": 0}})
    assert whole_day.counter_plan(tuesday) == ((dt.time(0), 0),)


def test_a_site_shares_counters_when_one_counter_serves_several_services() -> None:
    assert not parse_config(MINIMAL).sites[0].shares_counters
    assert load_config().site("nerima").shares_counters


def test_every_problem_is_reported_at_once() -> None:
    text = MINIMAL.replace('label = "1"', 'label = ""').replace(
        'id = "moving"', 'id = "moving"\ndaily_cap = 0'
    )
    with pytest.raises(ConfigError) as error:
        parse_config(text)
    assert len(error.value.problems) == 2
    assert "daily_cap" in error.value.problems[0] and "label" in error.value.problems[1]


def test_invalid_toml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("name = ", source="x.toml")


def test_config_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(EXAMPLE_CONFIG)]) == 0
    assert "17 counters" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace("cutoff = 16:45:00", "cutoff = 07:00:00"), encoding="utf-8")
    assert main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: sites['s1'].hours.mon" in err and "1 problem(s) found" in err
    assert main(["config", "check", str(tmp_path / "missing.toml")]) == 1
    assert "cannot read" in capsys.readouterr().err
