"""tools/containers/compose-secrets: the signing key is readable by its owner only."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from tests.support.devdb import ROOT


def test_the_signing_key_is_0600_and_owned_by_the_user_auth_runs_as(tmp_path: Path) -> None:
    # A copy of the scripts, so that the repository's own deploy/ is left alone.
    shutil.copytree(ROOT / "tools" / "containers", tmp_path / "tools" / "containers")
    (tmp_path / "deploy").mkdir()
    subprocess.run([tmp_path / "tools" / "containers" / "compose-secrets"], check=True)

    key = tmp_path / "deploy" / "secrets" / "auth_jwt_private_key.pem"
    env = (tmp_path / "deploy" / ".env").read_text()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "deploy" / ".env").stat().st_mode) == 0o600
    run_as = next(line for line in env.splitlines() if line.startswith("AUTH_RUN_AS="))
    uid, gid = run_as.removeprefix("AUTH_RUN_AS=").split(":")
    assert (key.stat().st_uid, key.stat().st_gid) == (int(uid), int(gid))
    assert uid != "0"  # the container never runs as root
    if os.getuid() == 0:
        assert uid == "10001"  # the image's own user
