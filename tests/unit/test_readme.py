"""The README stays true: every setting is documented, every make target it names exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from auth_service.settings import AuthSettings
from factory_core import EventConsumerSettings, Settings, TrustedIssuerSettings
from todo_service.settings import TodoSettings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
# flask-smorest's own OpenAPI plumbing, not something an operator sets.
UNDOCUMENTED = {
    "OPENAPI_VERSION",
    "OPENAPI_URL_PREFIX",
    "OPENAPI_JSON_PATH",
    "OPENAPI_SWAGGER_UI_PATH",
}


def _settings(cls: type[Settings], *, own_only: bool) -> set[str]:
    names = vars(cls) if own_only else dict.fromkeys(dir(cls))
    return {name for name in names if name.isupper()} - UNDOCUMENTED


def _documented() -> set[str]:
    return set(re.findall(r"^\| `([A-Z0-9_]+)`", README, flags=re.MULTILINE)) | set(
        re.findall(r"^\| `[A-Z0-9_]+`, `([A-Z0-9_]+)`", README, flags=re.MULTILINE)
    )


@pytest.mark.parametrize(
    ("cls", "own_only"),
    [
        (Settings, False),
        (TrustedIssuerSettings, True),
        (EventConsumerSettings, True),
        (AuthSettings, True),
        (TodoSettings, True),
    ],
)
def test_every_setting_is_in_a_readme_table(cls: type[Settings], own_only: bool) -> None:
    missing = sorted(_settings(cls, own_only=own_only) - _documented())
    assert not missing, f"document these {cls.__name__} settings in README.md: {missing}"


def test_make_targets_named_in_the_readme_exist() -> None:
    named = set(re.findall(r"`make (?:-n )?([a-z][a-z-]*)", README))
    assert {"run", "test"} <= named
    listed = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    available = set(re.findall(r"([a-z-]+)\s", re.sub(r"\x1b\[[0-9;]*m", "", listed)))
    assert named <= available, f"README names missing targets: {sorted(named - available)}"
