"""`make run` on a fresh copy of the project, as a newcomer runs it: it writes .env, builds the
venv and catalogs, migrates SQLite, bootstraps, prints how to point a registry at the console and
serves a whole signed-in session — every page twice, each action, the admin, the token service
and the built-in API — without one 500. It failed on the second page when the signed-in user's
times came back naive from SQLite.

The copy holds the tracked files and the untracked ones git does not ignore (so uncommitted work
is what runs), never .venv, .env or var/. The child gets none of the suite's environment: it runs
on the SQLite database `make run` makes, whatever DATABASE_URL the suite has."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import pytest
import requests
from cryptography import x509

from tests.helpers import ROOT, iam_body
from tests.servers import free_port, wait_until_answering

pytestmark = [
    pytest.mark.timeout(900),
    pytest.mark.database_independent(
        reason="make run serves its own SQLite database, whatever the suite's"
    ),
]

# What the child keeps of this environment: enough to find programs and install packages.
KEPT = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")
KEPT_PREFIXES = ("PIP_", "XDG_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy",
                 "https_proxy", "no_proxy", "SSL_CERT_", "REQUESTS_CA_BUNDLE")  # fmt: skip
LOCAL_REGISTRY = "127.0.0.1:5000"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def fresh_copy(destination: Path) -> None:
    """The project as a clone of it would have it, plus the work tree's untracked files."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True, timeout=60,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree, not yet in a commit
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


def child_environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name in KEPT or name.startswith(KEPT_PREFIXES)
    }


@dataclass
class MakeRun:
    directory: Path
    url: str
    port: int
    log: Path
    process: subprocess.Popen
    admin_password: str = ""
    responses: list[requests.Response] = field(default_factory=list)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _admin_password(run: MakeRun, timeout: float) -> str:
    """The password bootstrap prints once, read from make's output as it arrives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"with password: (\S+)", run.output())
        if found:
            return found.group(1)
        if run.process.poll() is not None:
            pytest.fail(f"make run exited ({run.process.returncode}):\n{run.output()}")
        time.sleep(0.2)  # waiting for a process's output, bounded by the deadline
    pytest.fail(f"make run printed no administrator password in {timeout:g} s:\n{run.output()}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to make's whole process group (make, runserver and its reloader's child); every
    one of them must be gone within 30 s."""
    group = process.pid
    os.killpg(group, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(group, signal.SIGKILL)
        process.wait(timeout=10)
        pytest.fail("make run did not stop within 30 s of SIGTERM")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)  # the group's last processes exiting, bounded by the deadline
    os.killpg(group, signal.SIGKILL)
    pytest.fail("a process of make run's group outlived SIGTERM by 30 s")


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    directory = tmp_path_factory.mktemp("fresh-clone")
    fresh_copy(directory)
    assert not (directory / ".venv").exists()
    assert not (directory / ".env").exists()
    assert not (directory / "var").exists()
    port = free_port()
    log = tmp_path_factory.mktemp("make-run") / "make-run.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["make", "run", f"PORT={port}", "HOST=127.0.0.1"],
            cwd=directory,
            env=child_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = MakeRun(directory, f"http://127.0.0.1:{port}", port, log, process)
    try:
        run.admin_password = _admin_password(run, timeout=600)
        wait_until_answering(process, f"{run.url}/healthz", 200, log, timeout=120)
        yield run
    finally:
        _stop(process)


class Walk:
    """A browser's session against the console: every answer recorded, each checked."""

    def __init__(self, run: MakeRun) -> None:
        self.run = run
        self.http = requests.Session()
        self.http.hooks["response"].append(lambda response, **_: run.responses.append(response))

    def _check(self, response: requests.Response, status: int, contains: tuple[str, ...]) -> None:
        where = f"{response.request.method} {response.request.url}"
        assert response.status_code == status, (
            f"{where} answered {response.status_code}, not {status}:\n"
            f"{response.text[:2000]}\n--- make run's output ---\n{self.run.output()[-6000:]}"
        )
        for text in contains:
            assert text in response.text, f"{where} does not show {text!r}"

    def csrf(self) -> str:
        return self.http.cookies["csrftoken"]

    def get(self, path: str, status: int = 200, *contains: str, **kwargs) -> requests.Response:
        response = self.http.get(self.run.url + path, allow_redirects=False, timeout=30, **kwargs)
        self._check(response, status, contains)
        return response

    def post(
        self, path: str, data: dict[str, str], status: int = 200, *contains: str, htmx: bool = True
    ) -> requests.Response:
        headers = {"X-CSRFToken": self.csrf()}
        if htmx:  # as the page's htmx sends it (the no-JavaScript forms are other tests')
            headers["HX-Request"] = "true"
        response = self.http.post(
            self.run.url + path,
            data={"csrfmiddlewaretoken": self.csrf(), **data},
            headers=headers,
            allow_redirects=False,
            timeout=30,
        )
        self._check(response, status, contains)
        return response

    def csv_rows(self, response: requests.Response) -> list[dict[str, str]]:
        assert response.headers["Content-Type"].startswith("text/csv"), response.text[:500]
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _pages(walk: Walk, registry_id: str, *contains: str) -> None:
    registry = f"/registries/{registry_id}"
    walk.get("/", 200, "default", *contains)
    walk.get(f"{registry}/", 200, LOCAL_REGISTRY, "/service/token", *contains)
    walk.get(f"{registry}/access-credentials/", 302)
    walk.get(f"{registry}/access-credentials/long-term/", 200, *contains)
    walk.get(f"{registry}/access-credentials/temporary/", 200, *contains)
    walk.get("/my-credentials/", 302)
    walk.get("/my-credentials/access-keys/", 200, *contains)


def _switch_language(walk: Walk, language: str) -> None:
    walk.post("/i18n/setlang/", {"language": language, "next": "/"}, 302, htmx=False)


def test_make_run_serves_a_whole_signed_in_session_without_a_server_error(
    make_run: MakeRun,
) -> None:
    walk = Walk(make_run)
    walk.get("/accounts/login/", 200, "Sign in")
    signed_in = walk.post(
        "/accounts/login/",
        {"username": "admin", "password": make_run.admin_password},
        302,
        htmx=False,
    )
    assert signed_in.headers["Location"] == "/"
    home = walk.get("/", 200, "default")
    registry_id = re.search(rf'href="/registries/({UUID})/"', home.text).group(1)
    registry = f"/registries/{registry_id}"
    tab = f"{registry}/access-credentials/long-term"

    _pages(walk, registry_id)  # every page once…
    _pages(walk, registry_id)  # …and again, as a reload

    created = walk.post(f"{tab}/create/", {"name": "ci-bot", "validity": "never"}, 200)
    (row,) = walk.csv_rows(created)
    assert row["Credential Name"] == "ci-bot"
    assert row["Password"]
    assert row["Registry"] == LOCAL_REGISTRY
    listed = walk.get(f"{tab}/", 200, "ci-bot")
    credential_id = re.search(rf"/long-term/({UUID})/", listed.text).group(1)
    one = f"{tab}/{credential_id}"
    walk.post(f"{one}/disable/", {}, 200, "ci-bot")
    walk.post(f"{one}/enable/", {}, 200, "ci-bot")
    walk.get(f"{one}/reset-password/", 200)
    (reset,) = walk.csv_rows(walk.post(f"{one}/reset-password/", {}, 200))
    assert reset["Username"] == row["Username"]
    assert reset["Password"] != row["Password"]

    generate = f"{registry}/access-credentials/temporary/generate/"
    walk.post(generate, {"kind": "image"}, 200, "Image login command", LOCAL_REGISTRY)
    walk.post(generate, {"kind": "chart"}, 200, "Helm chart login command", LOCAL_REGISTRY)

    keys = "/my-credentials/access-keys"
    (key,) = walk.csv_rows(walk.post(f"{keys}/create/", {}, 200))
    key_id = re.search(rf"{keys}/({UUID})/", walk.get(f"{keys}/", 200).text).group(1)
    walk.post(f"{keys}/{key_id}/disable/", {}, 200, key["Access Key Id"])
    walk.post(f"{keys}/{key_id}/enable/", {}, 200, key["Access Key Id"])
    walk.get(f"{keys}/{key_id}/delete/", 200)
    walk.post(f"{keys}/{key_id}/delete/", {}, 200)

    _token_service(make_run, reset["Username"], reset["Password"])
    _builtin_api(make_run)

    _pages(walk, registry_id)  # with rows to show, in English
    _switch_language(walk, "zh-hans")
    _pages(walk, registry_id, 'lang="zh-hans"')
    _pages(walk, registry_id, 'lang="zh-hans"')
    _switch_language(walk, "en")
    walk.get("/", 200, 'lang="en"')

    walk.get(f"{one}/delete/", 200, "ci-bot")
    walk.post(f"{one}/delete/", {}, 200)
    assert "ci-bot" not in walk.get(f"{tab}/", 200).text

    for _ in range(2):
        walk.get("/admin/", 200, "Credentials, registries and the audit trail")
        walk.get("/admin/credentials/longtermcredential/", 200)
        walk.get("/admin/credentials/auditevent/", 200, "ci-bot")

    failed = [
        f"{r.request.method} {r.request.url}" for r in make_run.responses if r.status_code >= 500
    ]
    assert not failed, f"server errors: {failed}"


def _token_service(run: MakeRun, username: str, password: str) -> None:
    """The registry's side: Basic auth on GET, then the OAuth2 password and refresh grants."""
    certificate = x509.load_pem_x509_certificate(
        (run.directory / "var" / "registry-token.crt").read_bytes()
    )
    scope = "repository:team/app:pull,push"
    answer = requests.get(
        f"{run.url}/service/token",
        params={"service": LOCAL_REGISTRY, "scope": scope},
        auth=(username, password),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(
        answer.json()["token"],
        certificate.public_key(),
        algorithms=["ES256"],
        audience=LOCAL_REGISTRY,
        issuer="swrconsole",
    )
    assert claims["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push"]}
    ]

    grant = {"client_id": "make-run-test", "service": LOCAL_REGISTRY, "scope": scope}
    form = {"grant_type": "password", "username": username, "password": password}
    posted = requests.post(
        f"{run.url}/service/token", data={**grant, **form, "access_type": "offline"}, timeout=30
    )
    assert posted.status_code == 200, posted.text
    assert jwt.decode(posted.json()["access_token"], options={"verify_signature": False})
    refresh = {"grant_type": "refresh_token", "refresh_token": posted.json()["refresh_token"]}
    refreshed = requests.post(f"{run.url}/service/token", data={**grant, **refresh}, timeout=30)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["access_token"]


def _builtin_api(run: MakeRun) -> None:
    """Huawei's API as the console serves it: an IAM token, then a temporary login command."""
    body = iam_body("admin", run.admin_password, domain="default")
    token = requests.post(f"{run.url}/v3/auth/tokens", json=body, timeout=30)
    assert token.status_code == 201, token.text
    secret = requests.post(
        f"{run.url}/v2/manage/utils/secret",
        params={"projectname": "cn-north-4"},
        headers={"X-Auth-Token": token.headers["X-Subject-Token"]},
        json={},
        timeout=30,
    )
    assert secret.status_code == 200, secret.text
    login = secret.headers["X-Swr-Dockerlogin"]
    assert login.startswith("docker login -u cn-north-4@")
    assert login.endswith(f" {LOCAL_REGISTRY}")


def test_make_run_prints_how_to_point_a_registry_at_it_before_serving(make_run: MakeRun) -> None:
    output = make_run.output()
    certificate = (make_run.directory / "var" / "registry-token.crt").resolve()
    snippet = (
        "auth:\n"
        "  token:\n"
        f'    realm: "http://127.0.0.1:{make_run.port}/service/token"\n'
        f'    service: "{LOCAL_REGISTRY}"\n'
        '    issuer: "swrconsole"\n'
        f'    rootcertbundle: "{certificate}"\n'
    )
    assert snippet in output
    assert output.index("with password: ") < output.index(snippet)
    assert output.index(snippet) < output.index("manage.py runserver")  # make echoes each command


def test_make_run_writes_a_local_registry_into_its_env_file(make_run: MakeRun) -> None:
    settings = (make_run.directory / ".env").read_text().splitlines()
    assert f"SWR_DEFAULT_REGISTRY_ADDRESS={LOCAL_REGISTRY}" in settings
    assert "DEBUG=true" in settings


def test_the_readme_says_how_to_choose_the_port_and_host_of_make_run() -> None:
    readme = (ROOT / "README.md").read_text()
    assert (
        "`PORT` and `HOST` choose where `make run` listens (defaults `8000` and `127.0.0.1`)"
        in (" ".join(readme.split()))
    )
    assert "make run PORT=8080 " in readme
    assert "make run HOST=0.0.0.0 PORT=8080 " in readme
