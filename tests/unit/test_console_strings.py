"""The console's strings: one JSON file per language, the same keys in each."""

from __future__ import annotations

import json
import re
from importlib.resources import files


def _strings(language: str) -> dict[str, str]:
    text = (files("gateway") / "console" / "i18n" / f"{language}.json").read_text("utf-8")
    table = json.loads(text)
    assert isinstance(table, dict)
    return table


def test_vietnamese_and_english_have_the_same_keys_and_placeholders() -> None:
    """A key missing in one language would show its name on screen; a placeholder
    missing in a translation would drop a value."""
    vi, en = _strings("vi"), _strings("en")

    assert sorted(vi.keys() - en.keys()) == []
    assert sorted(en.keys() - vi.keys()) == []
    placeholder = re.compile(r"\{(\w+)\}")
    differing = [
        key for key in vi if set(placeholder.findall(vi[key])) != set(placeholder.findall(en[key]))
    ]
    assert differing == []
