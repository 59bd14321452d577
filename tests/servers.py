"""gunicorn with the production settings, against the test database, for deployment tests."""

from __future__ import annotations

import os
import secrets
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_database_url() -> str:
    """The test database, for a server process of its own (gunicorn, a management command)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":  # a file (settings.py), so another process opens it too
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or "postgres"
    return f"postgres://{user}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


@dataclass
class Gunicorn:
    url: str
    log: Path
    process: subprocess.Popen

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


PRODUCTION_ENV = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "LOG_FORMAT": "json",
    "CONN_MAX_AGE": "60",
    "WEB_CONCURRENCY": "2",
    "GUNICORN_THREADS": "4",
}


@contextmanager
def gunicorn(name: str, port: int | None = None, **overrides: str) -> Iterator[Gunicorn]:
    """Start gunicorn (gunicorn.conf.py) with production settings; stop it afterwards."""
    server = start_gunicorn(name, port, **overrides)
    try:
        yield server
    finally:
        if not stop(server.process):
            pytest.fail(f"gunicorn did not stop within 30 s of SIGTERM:\n{server.log_text()}")


def start_gunicorn(
    name: str, port: int | None = None, *, append_log: bool = False, **overrides: str
) -> Gunicorn:
    """gunicorn (gunicorn.conf.py) with production settings, once it answers /healthz; the
    caller stops it (`stop`). Its log: test-artifacts/gunicorn-<name>.log (or added to it)."""
    port = port or free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"gunicorn-{name}.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SWR_TEST_")},
        **PRODUCTION_ENV,
        "DATABASE_URL": test_database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "LOG_FILE": "",
        **overrides,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with log.open("a" if append_log else "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "swrconsole.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(url=f"http://127.0.0.1:{port}", log=log, process=process)
    try:
        _wait_until_healthy(server)
    except BaseException:
        stop(process)
        raise
    return server


def stop(process: subprocess.Popen, timeout: float = 30) -> bool:
    """SIGTERM, and SIGKILL if it has not exited `timeout` s later: whether SIGTERM was enough."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        return False
    return True


def wait_until_answering(
    process: subprocess.Popen, url: str, status: int, log: Path, timeout: float = 60
) -> None:
    """Poll `url` until it answers `status`; fail with the log if the process dies first."""
    name = Path(str(process.args[0] if isinstance(process.args, list) else process.args)).name
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited:\n{log.read_text(errors='replace')}")
        try:
            if requests.get(url, timeout=2).status_code == status:
                return
        except requests.ConnectionError:
            time.sleep(0.05)  # readiness polling of a starting process, bounded by the deadline
        except requests.Timeout:
            pass  # a worker still starting on a loaded machine: ask again, until the deadline
    pytest.fail(f"{name} did not answer {url} in {timeout:g} s:\n{log.read_text(errors='replace')}")


def _wait_until_healthy(server: Gunicorn) -> None:
    wait_until_answering(server.process, f"{server.url}/healthz", 200, server.log)


def session_cookie_for(user: object) -> str:
    """A real session for `user` in the shared database, as gunicorn will read it."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def console_headers(session: str, *, https: bool = False) -> dict[str, str]:
    """Cookie and CSRF headers for POSTs to a console served by gunicorn."""
    csrf = secrets.token_hex(16)
    headers = {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf}
    if https:
        headers["X-Forwarded-Proto"] = "https"
    return headers


def pg_ctl(action: str) -> None:
    command = os.environ.get("SWR_TEST_PG_CTL")
    if not command:
        message = "needs the throwaway PostgreSQL that `make test` starts (SWR_TEST_PG_CTL unset)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    arguments = [*shlex.split(command), action, *(["-m", "fast"] if action == "stop" else [])]
    subprocess.run(arguments, check=True, capture_output=True, timeout=120)


@contextmanager
def postgresql_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster of its own on a free loopback port (as
    scripts/with-postgres.sh starts one: the newest installed server, trust authentication,
    owned by the postgres user when run as root), stopped and removed afterwards. Yields its
    superuser's URL (database postgres)."""
    import shutil
    import tempfile

    binaries = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: float(path.parent.parent.name),  # the version: the newest last
    )
    initdb = str(binaries[-1]) if binaries else shutil.which("initdb")
    if initdb is None:
        pytest.fail("PostgreSQL's server programs are needed (Debian: apt-get install postgresql)")
    bindir = Path(initdb).parent
    directory = Path(tempfile.mkdtemp(prefix="swrconsole-pg-"))
    as_owner: list[str] = []
    if os.getuid() == 0:  # PostgreSQL refuses to run as root
        if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "postgres"], check=True)
        shutil.chown(directory, "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data, log = directory / "data", directory / "server.log"
    pg_ctl = [*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60"]
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        subprocess.run(
            [*as_owner, initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
            check=True,
            capture_output=True,
        )
        started = subprocess.run([*pg_ctl, "-o", options, "start"], capture_output=True)
        if started.returncode != 0:
            pytest.fail(f"PostgreSQL did not start:\n{log.read_text(errors='replace')}")
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "stop", "-m", "immediate"], capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def redis_server(port: int | None = None, password: str = "") -> Iterator[str]:
    """A throwaway Debian redis-server on `port` (a free one by default) with its own
    directory, requiring `password` if one is given, stopped and removed afterwards. Yields
    its CACHE_URL."""
    import shutil
    import tempfile

    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is needed (Debian: apt-get install redis-server)")
    port = port or free_port()
    directory = Path(tempfile.mkdtemp(prefix="swrconsole-redis-"))
    log = directory / "redis.log"
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(log),
            *(["--requirepass", password] if password else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    client = redis.Redis(
        host="127.0.0.1", port=port, password=password or None, socket_connect_timeout=1
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"redis-server exited:\n{log.read_text(errors='replace')}")
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not answer:\n{log.read_text(errors='replace')}")
                time.sleep(0.05)  # readiness polling of a starting process, bounded above
        yield f"redis://{f':{password}@' if password else ''}127.0.0.1:{port}/0"
    finally:
        client.close()
        stop(process)
        shutil.rmtree(directory, ignore_errors=True)
