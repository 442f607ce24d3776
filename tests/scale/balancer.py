"""HAProxy (Debian's package) in front of the services' instances, from tests/scale/haproxy.cfg."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from string import Template

from tests.support import waiting
from tests.support.devdb import free_port
from tests.support.gunicorn import GunicornServer

TEMPLATE = Path(__file__).with_name("haproxy.cfg")


class Balancer:
    """One haproxy process: a listener per service, round robin over its instances."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("haproxy")
        if binary is None:
            raise RuntimeError("haproxy is missing: `make scale-test` installs it (apt-get)")
        self.binary = binary
        self.directory = directory
        self.socket = directory / "haproxy.sock"
        self.config = directory / "haproxy.cfg"
        self.ports = {"auth": free_port(), "todo": free_port()}
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, instances: Mapping[str, Sequence[GunicornServer]]) -> Balancer:
        """Balance each service over ``instances`` (their ports; they may start later)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        servers = {
            f"{service}_servers": "\n".join(
                f"    server {service}{number} 127.0.0.1:{instance.port} check"
                for number, instance in enumerate(group, start=1)
            )
            for service, group in instances.items()
        }
        self.config.write_text(
            Template(TEMPLATE.read_text()).substitute(
                socket=self.socket,
                pidfile=self.directory / "haproxy.pid",
                auth_port=self.ports["auth"],
                todo_port=self.ports["todo"],
                **servers,
            )
        )
        subprocess.run([self.binary, "-c", "-q", "-f", str(self.config)], check=True)
        log = open(self.directory / "haproxy.log", "ab")  # noqa: SIM115 (the process's)
        # -db: in the foreground, so that stop() ends it and nothing is left running.
        self.process = subprocess.Popen(
            [self.binary, "-db", "-f", str(self.config)], stdout=log, stderr=log
        )
        log.close()
        waiting.wait_until(self.socket.exists, within=10, what="haproxy's runtime API")
        return self

    def command(self, line: str) -> str:
        """One command of HAProxy's runtime API, its answer."""
        with socket.socket(socket.AF_UNIX) as api:
            api.settimeout(5)
            api.connect(str(self.socket))
            api.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := api.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def up(self, service: str) -> set[str]:
        """The instances of ``service`` the balancer sends requests to now."""
        state = self.command(f"show servers state {service}").splitlines()
        # "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...":
        # operational state 2 is running; administrative state 0 is in rotation.
        rows = [line.split() for line in state if line and line[0].isdigit() and " " in line]
        return {row[3] for row in rows if row[5] == "2" and row[6] == "0"}

    def set_enabled(self, service: str, number: int, enabled: bool) -> None:
        verb = "enable" if enabled else "disable"
        answer = self.command(f"{verb} server {service}/{service}{number}")
        assert answer.strip() == "", answer

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
