"""The command grammar of 888: fold the text, then match the Zalo catalog's keywords.

Folding upper-cases, removes Vietnamese diacritics (đ/Đ included) and collapses
whitespace, so ``HỦY zl7`` is ``HUY ZL7``. A command is a keyword and exactly one
known pack code, or a status keyword on its own; anything else is ``help``.
"""

from __future__ import annotations

from importlib.resources import files

import pytest

from carrier_rules import Catalog
from carrier_rules.catalog import parse_catalog
from gateway.domain.grammar import Command, fold, parse_command


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    path = files("carrier_rules") / "catalogs" / "zalo.toml"
    return parse_catalog(path.read_text(encoding="utf-8"), source="zalo.toml")


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        pytest.param("HỦY zl7", "HUY ZL7", id="hook-and-horn"),
        pytest.param("huỷ zl7", "HUY ZL7", id="old-style-accent-placement"),
        pytest.param("đăng ký", "DANG KY", id="d-with-stroke"),
        pytest.param("ĐK ZL1", "DK ZL1", id="capital-d-with-stroke"),
        pytest.param("ạằẩễộ ướữ", "AAAEO UOU", id="stacked-diacritics"),
        pytest.param("Hu\u031by\u0309", "HUY", id="already-decomposed"),
        pytest.param("  dk \t\n  zl1  ", "DK ZL1", id="whitespace-collapsed"),
        pytest.param("dk\u00a0zl1", "DK ZL1", id="no-break-space"),
        pytest.param("kttk_zl", "KTTK_ZL", id="underscore-kept"),
        pytest.param("", "", id="empty"),
        pytest.param("   ", "", id="blank"),
        pytest.param("👍 ok", "👍 OK", id="emoji-kept"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "command"),
    [
        pytest.param("DK ZL1", Command("subscribe", "ZL1"), id="dk-zl1"),
        pytest.param("dk zl7", Command("subscribe", "ZL7"), id="lower-case"),
        pytest.param("  Dk   Zl30 ", Command("subscribe", "ZL30"), id="spaces-mixed-case"),
        pytest.param("ĐK ZL30", Command("subscribe", "ZL30"), id="d-with-stroke"),
        pytest.param("DANGKY ZL7", Command("subscribe", "ZL7"), id="dangky"),
        pytest.param("đăng ký  zl7", Command("subscribe", "ZL7"), id="dang-ky-two-words"),
        pytest.param("HUY ZL7", Command("cancel", "ZL7"), id="huy"),
        pytest.param("HỦY zl7", Command("cancel", "ZL7"), id="huy-diacritics"),
        pytest.param("hủy   zl1", Command("cancel", "ZL1"), id="huy-lower-spaces"),
        pytest.param("KTTK_ZL", Command("status", "zalo"), id="status"),
        pytest.param("kttk_zl", Command("status", "zalo"), id="status-lower"),
        pytest.param("KTTK ZL", Command("status", "zalo"), id="status-with-space"),
        pytest.param(" kttk   zl ", Command("status", "zalo"), id="status-spaces"),
    ],
)
def test_commands_that_are_understood(catalog: Catalog, text: str, command: Command) -> None:
    assert parse_command(text, catalog) == command


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("👍", id="emoji"),
        pytest.param("DK", id="keyword-alone"),
        pytest.param("HUY", id="cancel-alone"),
        pytest.param("ZL1", id="pack-alone"),
        pytest.param("DK ZL99", id="unknown-pack"),
        pytest.param("DK ZL", id="partial-pack"),
        pytest.param("DK ZL1 ZL7", id="two-packs"),
        pytest.param("DK ZL1 NGAY", id="trailing-word"),
        pytest.param("DKZL1", id="no-space"),
        pytest.param("ZL1 DK", id="reversed"),
        pytest.param("DK KTTK_ZL", id="status-as-pack"),
        pytest.param("KTTK_ZL ZL1", id="status-with-pack"),
        pytest.param("KTTK", id="half-status"),
        pytest.param("TU CHOI", id="unknown-keyword"),
    ],
)
def test_anything_else_is_help(catalog: Catalog, text: str) -> None:
    assert parse_command(text, catalog) == Command("help")
