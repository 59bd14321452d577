"""A real syslog receiver for the tests: Debian's rsyslogd in the foreground with its own
configuration, work directory and pid file under a temporary directory, listening on two
loopback ports (plain TCP, and TLS through its GnuTLS driver with a test CA's certificate), and
writing every message it receives to a file with its MSGID, raw structured data and MSG.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers import free_port, stop

# One line a message: MSGID, the structured data as received, the MSG.
TEMPLATE = "%msgid%\\t%structured-data%\\t%msg%\\n"
SD = re.compile(r'\[audit@32473 id="(\d+)" seq="(\d+)" digest="([0-9a-f]*)"\]')


@dataclass(frozen=True)
class Received:
    msgid: str
    id: int
    seq: int
    digest: str
    body: dict


def wait_for(condition: Callable[[], object], what: str, timeout: float = 20) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:g} s")
        time.sleep(0.02)  # polling interval, bounded by the deadline above


def certificate_authority(directory: Path, name: str) -> tuple[Path, Path, Path]:
    """A test CA and a certificate it signed for 127.0.0.1: (ca.pem, server.pem, server.key)."""
    now = datetime.datetime.now(datetime.UTC)

    def issue(subject: str, key, issuer_key, issuer: x509.Name | None, ca: bool):
        name_ = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name_)
            .issuer_name(issuer or name_)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = issue(f"{name} CA", ca_key, ca_key, None, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = issue("127.0.0.1", server_key, ca_key, ca_cert.subject, ca=False)
    paths = (directory / f"{name}-ca.pem", directory / f"{name}.pem", directory / f"{name}.key")
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return paths


class Rsyslog:
    """rsyslogd on 127.0.0.1: `tcp_url`, `tls_url` (its certificate signed by `ca_file`)."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("rsyslogd") or shutil.which("rsyslogd", path="/usr/sbin:/sbin")
        if binary is None:
            pytest.fail("rsyslogd is needed (Debian: apt-get install rsyslog rsyslog-gnutls)")
        if not list(Path("/usr/lib").glob("*/rsyslog/lmnsd_gtls.so")):
            pytest.fail("rsyslog's TLS driver is needed (Debian: apt-get install rsyslog-gnutls)")
        self.binary = binary
        self.directory = directory
        self.file = directory / "received.log"
        self.log = directory / "rsyslogd.log"
        self.ca_file, cert, key = certificate_authority(directory, "receiver")
        self.tcp_port, self.tls_port = free_port(), free_port()
        self.tcp_url = f"tcp://127.0.0.1:{self.tcp_port}"
        self.tls_url = f"tls://127.0.0.1:{self.tls_port}"
        (directory / "work").mkdir()
        self.config = directory / "rsyslog.conf"
        self.config.write_text(
            f'global(workDirectory="{directory / "work"}" maxMessageSize="64k")\n'
            'module(load="imtcp")\n'
            f'template(name="raw" type="string" string="{TEMPLATE}")\n'
            'ruleset(name="audit") {\n'
            f'  action(type="omfile" file="{self.file}" template="raw")\n'
            "}\n"
            f'input(type="imtcp" address="127.0.0.1" port="{self.tcp_port}" ruleset="audit")\n'
            f'input(type="imtcp" address="127.0.0.1" port="{self.tls_port}" ruleset="audit"\n'
            '  streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"\n'
            f'  streamDriver.CAFile="{self.ca_file}" streamDriver.CertFile="{cert}"\n'
            f'  streamDriver.KeyFile="{key}")\n'
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "-n",
                    "-f",
                    str(self.config),
                    "-i",
                    str(self.directory / "rsyslogd.pid"),
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._listening, f"rsyslogd listening\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            assert stop(self.process), "rsyslogd did not stop on SIGTERM"
            self.process = None

    def _listening(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"rsyslogd exited:\n{self.log.read_text(errors='replace')}")
        for port in (self.tcp_port, self.tls_port):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
        return True

    def received(self) -> list[Received]:
        """Every audit message written to the file so far (whole lines only), in order."""
        if not self.file.exists():
            return []
        found = []
        for line in self.file.read_text().splitlines(keepends=True):
            if not line.endswith("\n"):
                break
            msgid, structured, body = line.rstrip("\n").split("\t", 2)
            match = SD.fullmatch(structured)
            assert match, f"structured data not as sent: {structured!r}"
            found.append(
                Received(
                    msgid,
                    int(match[1]),
                    int(match[2]),
                    match[3],
                    json.loads(body),
                )
            )
        return found
