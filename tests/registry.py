"""Driving Debian's docker-registry, with the console as its token realm, from real clients.

The fixtures that start the registry are in conftest.py (`docker_registry`,
`registry_in_console`), the process itself in `serving_docker_registry` here; these are the
helpers the client tests share: images to push, the
console's own steps (create, disable, enable, generate), and each client's commands — the
ones docs/REGISTRY.md shows.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import secrets
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from credentials.models import LongTermCredential, Registry
from tests.helpers import run
from tests.servers import free_port, wait_until_answering


@dataclass
class RunningRegistry:
    address: str
    workdir: Path

    @property
    def url(self) -> str:
        return f"http://{self.address}"


def program(name: str, package: str | None = None) -> str:
    """The path of a system program the test drives; a clear failure when it is missing."""
    path = shutil.which(name)
    if not path:
        pytest.fail(
            f"{name} is not installed (Debian: apt-get install {package or name}; "
            "scripts/system-deps.sh installs every program the suite needs)"
        )
    return path


@contextmanager
def serving_docker_registry(
    directory: Path, realm: str, certificate: str, address: str = ""
) -> Iterator[RunningRegistry]:
    """Debian's docker-registry with token auth (`realm`, trusting `certificate`), its storage
    and log in `directory`, at `address` (a free loopback port by default), until the block
    ends."""
    binary = program("docker-registry")
    address = address or f"127.0.0.1:{free_port()}"
    config = directory / "registry.yml"
    config.write_text(
        json.dumps(  # YAML is a superset of JSON
            {
                "version": 0.1,
                "log": {"level": "warn"},
                "storage": {"filesystem": {"rootdirectory": str(directory / "storage")}},
                "http": {"addr": address, "secret": secrets.token_hex(16)},
                "auth": {
                    "token": {
                        "realm": realm,
                        "service": address,
                        "issuer": "swrconsole",
                        "rootcertbundle": certificate,
                    }
                },
            }
        )
    )
    log = (directory / "registry.log").open("w")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_answering(process, f"http://{address}/v2/", 401, directory / "registry.log")
        yield RunningRegistry(address=address, workdir=directory)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def build_oci_image(directory: Path) -> str:
    """A one-layer OCI image layout; returns the manifest digest."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def blob(data: bytes) -> tuple[str, int]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return f"sha256:{digest}", len(data)

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        content = f"hello from the SWR console test {secrets.token_hex(8)}\n".encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    layer_digest, layer_size = blob(gzip.compress(raw.getvalue(), mtime=0))
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {
            "type": "layers",
            "diff_ids": [f"sha256:{hashlib.sha256(raw.getvalue()).hexdigest()}"],
        },
    }
    config_digest, config_size = blob(json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer_digest,
                "size": layer_size,
            }
        ],
    }
    manifest_digest, manifest_size = blob(json.dumps(manifest).encode())
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": manifest_size,
                "annotations": {"org.opencontainers.image.ref.name": "latest"},
            }
        ],
    }
    (directory / "index.json").write_text(json.dumps(index))
    return manifest_digest


def oci_archive(layout: Path, archive: Path) -> Path:
    """The layout as an OCI archive (a tar of its directory), as `ctr images import` reads it."""
    with tarfile.open(archive, "w") as tar:
        for path in sorted(layout.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(layout)))
    return archive


def create_long_term(client: Client, registry: Registry, name: str) -> tuple[str, str]:
    response = client.post(reverse("create_long_term", args=[registry.public_id]), {"name": name})
    assert response.status_code == 200, response.content[:500]
    row = list(csv.reader(io.StringIO(response.content.decode())))[1]
    return row[1], row[2]


def operate(client: Client, registry: Registry, operation: str, username: str) -> None:
    credential = LongTermCredential.objects.get(username=username)
    url = reverse(f"{operation}_long_term", args=[registry.public_id, credential.public_id])
    assert client.post(url).status_code == 302


def generate_temporary(client: Client, registry: Registry, kind: str) -> tuple[str, str]:
    """Generate on the Temporary Credentials tab; the username and password of its command."""
    response = client.post(reverse("generate_temporary", args=[registry.public_id]), {"kind": kind})
    assert response.status_code == 200, response.content[:500]
    command = re.search(r'<pre id="temporary-command">(.+?)</pre>', response.content.decode())
    assert command, response.content.decode()[:2000]
    words = re.sub(r"<[^>]+>", "", command.group(1)).split()  # the arguments' wrapping spans
    if kind == "chart":  # helm registry login HOST --username U --password P
        assert words[3] == registry.address, words
        return words[5], words[7]
    _, _, _, username, _, password, host = words  # docker login -u U -p P HOST
    assert host == registry.address
    return username, password


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr


def assert_unauthorized(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0
    assert (
        "unauthorized" in result.stderr.lower()
        or "invalid username/password" in result.stderr.lower()
    ), result.stderr


def assert_denied(result: subprocess.CompletedProcess[str]) -> None:
    """Refused by the registry for want of permission (the token service issued a token that
    grants nothing there), not for bad credentials (assert_unauthorized): containers/image
    tools say "requested access to the resource is denied", containerd the registry's
    "insufficient_scope"."""
    assert result.returncode != 0, result.stdout
    error = result.stderr.lower()
    assert "denied" in error or "insufficient_scope" in error, result.stderr


def containers_login(authfile: Path, username: str, host: str, *password: str) -> list[str]:
    """`login`'s arguments as the containers/image tools (skopeo, podman, buildah) take them,
    with an authfile of their own; `password` is how the password is given."""
    return [
        "login",
        "--tls-verify=false",
        "--authfile",
        str(authfile),
        "--username",
        username,
        *password,
        host,
    ]


class Skopeo:
    def __init__(self, workdir: Path) -> None:
        self.authfile = workdir / "auth.json"
        self.policy = workdir / "policy.json"
        self.policy.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run(program("skopeo"), *args)

    def login(self, address: str, username: str, password: str) -> subprocess.CompletedProcess[str]:
        self.authfile.unlink(missing_ok=True)
        return self.run(*containers_login(self.authfile, username, address, "--password", password))

    def copy(self, side: str, source: str, destination: str) -> subprocess.CompletedProcess[str]:
        """`skopeo copy`, logged in (and over plain HTTP) on the registry `side`: src or dest."""
        return self.run(
            "--policy",
            str(self.policy),
            "copy",
            f"--{side}-tls-verify=false",
            f"--{side}-authfile",
            str(self.authfile),
            source,
            destination,
        )

    def push(self, layout: Path, reference: str) -> subprocess.CompletedProcess[str]:
        return self.copy("dest", f"oci:{layout}:latest", f"docker://{reference}")

    def pull(self, reference: str, layout: Path) -> subprocess.CompletedProcess[str]:
        return self.copy("src", f"docker://{reference}", f"oci:{layout}:latest")


class Containerd:
    """A throwaway containerd daemon (its own root, state and socket) and `ctr` against it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "containerd.sock"  # short: a socket path has ~100 bytes
        self.log = directory / "containerd.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        config = self.directory / "config.toml"
        # TOML strings are JSON strings; the CRI plugin (Kubernetes' side) is not needed.
        config.write_text(
            "version = 2\n"
            f"root = {json.dumps(str(self.directory / 'root'))}\n"
            f"state = {json.dumps(str(self.directory / 'state'))}\n"
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            f"[grpc]\n  address = {json.dumps(str(self.socket))}\n"
            f"[ttrpc]\n  address = {json.dumps(str(self.socket) + '.ttrpc')}\n"
        )
        binary = program("containerd")
        program("ctr", "containerd")
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [binary, "--config", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        wait_for_socket(self.process, self.socket, self.log)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def ctr(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run(program("ctr", "containerd"), "--address", str(self.socket), *args)

    def import_image(self, archive: Path, name: str) -> None:
        """Import an OCI archive as `name:latest` (no unpacking: nothing runs it)."""
        assert_ok(self.ctr("images", "import", "--no-unpack", "--base-name", name, str(archive)))

    def push(self, reference: str, username: str, password: str) -> subprocess.CompletedProcess:
        return self.ctr(
            "images", "push", "--plain-http", "--user", f"{username}:{password}", reference
        )

    def pull(self, reference: str, username: str, password: str) -> subprocess.CompletedProcess:
        # The native snapshotter unpacks into plain directories: it works on any filesystem.
        return self.ctr(
            "images",
            "pull",
            "--plain-http",
            "--snapshotter",
            "native",
            "--user",
            f"{username}:{password}",
            reference,
        )

    def pull_with_refresh_token(self, reference: str, token: str) -> subprocess.CompletedProcess:
        """Pull with a refresh token instead of a password (the OAuth2 refresh grant)."""
        return self.ctr(
            "images", "pull", "--plain-http", "--snapshotter", "native", "--refresh", token,
            reference,
        )  # fmt: skip

    def remove(self, reference: str) -> None:
        assert_ok(self.ctr("images", "remove", "--sync", reference))

    def new_image(self, reference: str, workdir: Path) -> str:
        """A fresh one-layer image (built in `workdir`) imported as `reference`, NAME:latest;
        its manifest digest."""
        name, tag = reference.rsplit(":", 1)
        assert tag == "latest", reference
        digest = build_oci_image(workdir / "image")
        self.import_image(oci_archive(workdir / "image", workdir / "image.tar"), name)
        return digest

    def push_and_pull(self, reference: str, username: str, password: str) -> None:
        """Push `reference`, remove it here and pull it back, each step allowed."""
        assert_ok(self.push(reference, username, password))
        self.remove(reference)
        assert_ok(self.pull(reference, username, password))


def wait_for_socket(process: subprocess.Popen, path: Path, log: Path, timeout: float = 60) -> None:
    """Until a Unix socket accepts connections; fail with the log if the process dies first."""
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited:\n{log.read_text(errors='replace')}")
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(path))
                return
            except OSError:
                time.sleep(0.05)  # readiness polling of a starting daemon, bounded above
    pytest.fail(f"no socket at {path} within {timeout:g} s:\n{log.read_text(errors='replace')}")


class Podman:
    """podman or buildah with their own storage (vfs: no overlay mounts) and authfile."""

    def __init__(self, name: str, directory: Path) -> None:
        self.directory = directory
        self.authfile = directory / "auth.json"
        self.base = [
            program(name),
            "--root",
            str(directory / "root"),
            "--runroot",
            str(directory / "run"),
            "--storage-driver",
            "vfs",
        ]
        if name == "podman":
            # No systemd here: events to a file, cgroups managed directly.
            self.base += ["--events-backend", "file", "--cgroup-manager", "cgroupfs"]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run(*self.base, *args, input=stdin)

    def login(self, host: str, username: str, password: str) -> subprocess.CompletedProcess:
        login = containers_login(self.authfile, username, host, "--password-stdin")
        return self.run(*login, stdin=password)

    def import_image(self, layout: Path, reference: str) -> None:
        """Take an OCI layout into local storage under `reference` (no registry involved)."""
        pulled = self.run("pull", "--quiet", f"oci:{layout}:latest")
        assert_ok(pulled)
        assert_ok(self.run("tag", pulled.stdout.strip().splitlines()[-1], reference))

    def push(self, reference: str) -> subprocess.CompletedProcess[str]:
        return self.run("push", "--tls-verify=false", "--authfile", str(self.authfile), reference)

    def pull(self, reference: str) -> subprocess.CompletedProcess[str]:
        return self.run("pull", "--tls-verify=false", "--authfile", str(self.authfile), reference)

    def remove(self, reference: str) -> None:
        assert_ok(self.run("rmi", reference))

    def login_push_and_pull(self, host: str, username: str, password: str, name: str) -> str:
        """Log in to `host`, then push a fresh one-layer image as HOST/NAME:v1, remove it here
        and pull it back, each step allowed; the image's reference."""
        reference = f"{host}/{name}:v1"
        layout = self.directory / f"image-{secrets.token_hex(4)}"
        build_oci_image(layout)
        self.import_image(layout, reference)
        assert_ok(self.login(host, username, password))
        assert_ok(self.push(reference))
        self.remove(reference)
        assert_ok(self.pull(reference))
        return reference


HELM_CHART_MEDIA_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
HELM_CONFIG_MEDIA_TYPE = "application/vnd.cncf.helm.config.v1+json"


def build_helm_chart(directory: Path, name: str = "demo", version: str = "0.1.0") -> Path:
    """A Helm chart package (`helm package`'s layout: NAME/Chart.yaml, ... in NAME-VERSION.tgz)
    and its config (Chart.yaml as JSON) beside it; returns the package."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: {version}\ntype: application\n",
        "values.yaml": f"greeting: {secrets.token_hex(8)}\n",
        "templates/configmap.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
            "data:\n  greeting: {{ .Values.greeting }}\n"
        ),
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path, text in files.items():
            info = tarfile.TarInfo(f"{name}/{path}")
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    package = directory / f"{name}-{version}.tgz"
    package.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    config = {"apiVersion": "v2", "name": name, "version": version, "type": "application"}
    (directory / "config.json").write_text(json.dumps(config))
    return package


def oras_client(host: str, username: str, password: str, config: Path) -> object:
    """An ORAS SDK client logged in to `host` over plain HTTP, as the SDK's docs show."""
    import oras.provider  # it imports oras.decorator (importing that first is circular)

    class Registry(oras.provider.Registry):
        # The SDK retries a refused request five times, backing off 3, 5, 11, 29 and 83 s;
        # the tests want a refusal at once.
        do_request = oras.decorator.retry(attempts=0)(oras.provider.Registry.do_request.__wrapped__)

    client = Registry(hostname=host, insecure=True)
    client.login(username=username, password=password, hostname=host, config_path=str(config))
    return client


class Oras:
    """The ORAS SDK logged in to `host`, a fresh client for each step: a client keeps the
    pull-only token its first request earned and sends it again to push."""

    def __init__(self, host: str, username: str, password: str, config: Path) -> None:
        self.host, self.username, self.password, self.config = host, username, password, config

    def client(self) -> object:
        return oras_client(self.host, self.username, self.password, self.config)

    def push_chart(self, reference: str, package: Path) -> None:
        self.client().push(  # type: ignore[attr-defined]
            target=reference,
            files=[f"{package}:{HELM_CHART_MEDIA_TYPE}"],
            manifest_config=f"{package.parent / 'config.json'}:{HELM_CONFIG_MEDIA_TYPE}",
            disable_path_validation=True,
        )

    def pull_chart(self, reference: str, outdir: Path) -> Path:
        files = self.client().pull(  # type: ignore[attr-defined]
            target=reference, outdir=str(outdir), allowed_media_type=[]
        )
        assert len(files) == 1, files
        return Path(files[0])

    def push_and_pull_chart(self, reference: str, workdir: Path) -> Path:
        """Push a fresh chart (NAME:VERSION of `reference`, built in `workdir`) and pull it
        back unchanged; its package."""
        name, version = reference.rsplit("/", 1)[1].split(":")
        package = build_helm_chart(workdir / "chart", name=name, version=version)
        self.push_chart(reference, package)
        assert self.pull_chart(reference, workdir / "pulled").read_bytes() == package.read_bytes()
        return package
