"""The examples' langgraph.json files load in the official CLI too (`langgraph dev` validates
them with this function): Waypost's own `waypost` section must not make them unusable there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langgraph_cli.config import validate_config_file

from tests.serverproc import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*/langgraph.json"))


@pytest.mark.parametrize("config", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_the_official_cli_accepts_the_example_config(config: Path) -> None:
    validated = validate_config_file(config)
    assert validated["graphs"] == json.loads(config.read_text())["graphs"]


def test_the_examples_include_one_with_a_waypost_section() -> None:
    assert any('"waypost"' in p.read_text() for p in EXAMPLES)
