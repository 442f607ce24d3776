"""The README and the docs stay true: every setting documented (from the code), every make
target they name exists, the README a front page whose links lead somewhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from auth_service.settings import AuthSettings
from factory_core import EventConsumerSettings, MailSettings, Settings, TrustedIssuerSettings
from todo_service.settings import TodoSettings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCS = {path: path.read_text() for path in (ROOT / "docs").rglob("*.md")}
sys.path.insert(0, str(ROOT / "tools" / "docs"))
from settings_tables import HIDDEN, descriptions  # noqa: E402 (the mkdocs hook, from tools/)


@pytest.mark.parametrize(
    "cls",
    [
        Settings,
        TrustedIssuerSettings,
        EventConsumerSettings,
        MailSettings,
        AuthSettings,
        TodoSettings,
    ],
)
def test_every_setting_is_described_where_it_is_declared(cls: type[Settings]) -> None:
    """The configuration page is made from these comments (tools/docs/settings_tables.py)."""
    declared = {name for name in vars(cls) if name.isupper()} - HIDDEN
    described = {name for name, text in descriptions(cls).items() if text}
    assert declared == described, f"give these {cls.__name__} settings a #: comment"


def test_every_settings_class_has_its_table() -> None:
    page = DOCS[ROOT / "docs" / "configuration.md"]
    for cls in (Settings, TrustedIssuerSettings, EventConsumerSettings, MailSettings):
        assert f"<!-- settings: {cls.__module__}:{cls.__name__} -->" in page
    for cls in (AuthSettings, TodoSettings):
        assert f"<!-- settings: {cls.__module__}:{cls.__name__} -->" in page


def test_make_targets_named_in_the_readme_and_docs_exist() -> None:
    named = set()
    for text in (README, *DOCS.values()):
        named |= set(re.findall(r"`make (?:-n )?([a-z][a-z-]*)", text))
    assert {"run", "test", "docs"} <= named
    listed = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    available = set(re.findall(r"([a-z-]+)\s", re.sub(r"\x1b\[[0-9;]*m", "", listed)))
    assert named <= available, f"the docs name missing targets: {sorted(named - available)}"


def test_the_readme_is_a_front_page_whose_links_lead_somewhere() -> None:
    assert len(README.splitlines()) <= 300
    for link in re.findall(r"\]\(((?!https?://|#)[^)#]+)", README):
        assert (ROOT / link).exists(), f"README links to {link}, which is not there"
