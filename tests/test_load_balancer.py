"""The console behind Debian's haproxy with deploy/haproxy.cfg (its server line replaced by three
gunicorn replicas), PostgreSQL and Redis, under a steady load of registry token requests (the
GET and the POST flow, with a real long-term credential) and console creates (a session signed
in through the load balancer): the README's deploy procedure ("Deploying a new release")
restarts every replica without a failed token request or a lost create, and a replica killed
with SIGKILL costs at most the console requests that were in flight on it."""

from __future__ import annotations

import base64
import csv
import io
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from requests.adapters import HTTPAdapter

from credentials.models import Actor, AuditEvent, LongTermCredential, Registry, User
from tests.helpers import PASSWORD, ROOT, run
from tests.servers import (
    ARTIFACTS,
    Gunicorn,
    free_port,
    redis_server,
    start_gunicorn,
    stop,
)
from tests.servers import test_database_url as database_url

CONFIG = ROOT / "deploy" / "haproxy.cfg"
SERVER_LINE = re.compile(r"^\s*(server|server-template)\s")
REPLICAS = ("web1", "web2", "web3")
# The clients' own address, as haproxy sees it: the console must see it too (X-Forwarded-For),
# not haproxy's 127.0.0.1.
CLIENT = "127.0.0.3"
# Drain for 3 s (haproxy's checks take a draining replica out within ~1.5 s); stopped by 20 s
# (a loaded machine may take several seconds to tear a process down).
DRAIN_SECONDS, GRACEFUL_TIMEOUT = 3, 20
TIMEOUT = 20  # one request: longer counts as failed
# What the TLS proxy in front of haproxy adds (README: TLS ends in front of the load balancer).
HTTPS = {"X-Forwarded-Proto": "https"}


def with_servers(config: str, servers: dict[str, int]) -> str:
    """deploy/haproxy.cfg with its backend's server line(s) replaced by `servers`, and nothing
    else changed (what a deployment does)."""
    lines = config.splitlines()
    replaced = [n for n, line in enumerate(lines) if SERVER_LINE.match(line)]
    assert len(replaced) == 1, "deploy/haproxy.cfg has one server line, the backend's template"
    indent = re.match(r"\s*", lines[replaced[0]]).group()
    ours = [f"{indent}server {name} 127.0.0.1:{port}" for name, port in servers.items()]
    result = lines[: replaced[0]] + ours + lines[replaced[0] + 1 :]
    kept = [line for line in result if not SERVER_LINE.match(line)]
    assert kept == [line for line in lines if not SERVER_LINE.match(line)]
    return "\n".join(result) + "\n"


def test_the_shipped_haproxy_config_is_valid_as_is_and_with_its_server_line_replaced(
    tmp_path: Path,
) -> None:
    haproxy = _haproxy_binary()
    checked = run(haproxy, "-c", "-f", str(CONFIG), timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    replaced = tmp_path / "haproxy.cfg"
    replaced.write_text(with_servers(CONFIG.read_text(), {"web1": 8001, "web2": 8002}))
    checked = run(haproxy, "-c", "-f", str(replaced), timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = CONFIG.read_text()
    # What the console and the deploy procedure rely on.
    assert "http-check send meth GET uri /healthz" in config
    assert "option forwardfor" in config
    assert "option redispatch 1" in config
    assert "retry-on conn-failure empty-response" in config
    assert "http-request disable-l7-retry unless METH_GET or { path /service/token }" in config


def _haproxy_binary() -> str:
    binary = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")
    if binary is None:
        pytest.fail("haproxy is needed (Debian: apt-get install haproxy; scripts/system-deps.sh)")
    return binary


@dataclass
class Replica:
    name: str
    port: int
    server: Gunicorn | None = None


@dataclass
class Cluster:
    """Three replicas behind haproxy; the replicas' environment and haproxy's runtime API."""

    url: str
    admin_socket: Path
    log: Path
    env: dict[str, str]
    replicas: dict[str, Replica] = field(default_factory=dict)

    def admin(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(5)
            client.connect(str(self.admin_socket))
            client.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := client.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stats(self) -> dict[str, dict[str, str]]:
        """`show stat` of the backend: a row per server, and BACKEND."""
        text = self.admin("show stat").lstrip("# ")
        return {
            row["svname"]: row
            for row in csv.DictReader(io.StringIO(text))
            if row["pxname"] == "web"
        }

    def wait_until(self, name: str, status: str, timeout: float = 30) -> None:
        """Until haproxy's view of replica `name` is `status` (UP, DOWN), as its checks say."""
        deadline = time.monotonic() + timeout
        while (seen := self.stats()[name]["status"]) != status:
            assert time.monotonic() < deadline, f"haproxy sees {name} {seen!r}, not {status}"
            time.sleep(0.05)  # polling haproxy's state, bounded by the deadline

    def start(self, replica: Replica, *, again: bool = False) -> None:
        replica.server = start_gunicorn(
            f"lb-{replica.name}", replica.port, append_log=again, **self.env
        )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_haproxy(config: Path, bind: str, admin_socket: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "LB_BIND": bind, "LB_ADMIN_SOCKET": str(admin_socket)}
    with log.open("w") as output:
        return subprocess.Popen(
            [_haproxy_binary(), "-W", "-db", "-f", str(config)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture(scope="module")
def cluster(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    directory = tmp_path_factory.mktemp("lb")
    key, cert = str(directory / "token.key"), str(directory / "token.crt")
    call_command("create_registry_token_keys", key=key, cert=cert, stdout=io.StringIO())
    ports = {name: free_port() for name in REPLICAS}
    config = directory / "haproxy.cfg"
    config.write_text(with_servers(CONFIG.read_text(), ports))
    admin_socket, port = directory / "admin.sock", free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    with redis_server() as cache_url:
        env = {
            "DATABASE_URL": database_url(),
            "CACHE_URL": cache_url,
            "REGISTRY_TOKEN_KEY_FILE": key,
            "REGISTRY_TOKEN_CERT_FILE": cert,
            "TRUSTED_PROXIES": "127.0.0.1",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LONG_TERM_CREDENTIALS_PER_REGISTRY": "100000",
            "DRAIN_SECONDS": str(DRAIN_SECONDS),
            "GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT),
            "WEB_CONCURRENCY": "1",
            "GUNICORN_ACCESS_LOG": "",
        }
        lb = Cluster(f"http://127.0.0.1:{port}", admin_socket, ARTIFACTS / "haproxy-lb.log", env)
        lb.replicas = {name: Replica(name, ports[name]) for name in REPLICAS}
        haproxy = start_haproxy(config, f"127.0.0.1:{port}", admin_socket, lb.log)
        try:
            with ThreadPoolExecutor(len(REPLICAS)) as starting:  # side by side: boots are slow
                list(starting.map(lb.start, lb.replicas.values()))
            deadline = time.monotonic() + 30
            while not admin_socket.exists():
                assert haproxy.poll() is None, f"haproxy exited:\n{lb.log_text()}"
                assert time.monotonic() < deadline, f"haproxy did not start:\n{lb.log_text()}"
                time.sleep(0.05)  # readiness polling of a starting process, bounded above
            for name in REPLICAS:
                lb.wait_until(name, "UP")
            yield lb
        finally:
            running = [r.server.process for r in lb.replicas.values() if r.server is not None]
            for process in running:  # gunicorn's quick stop: no drain needed any more
                process.send_signal(signal.SIGQUIT)
            for process in running:
                stop(process, timeout=GRACEFUL_TIMEOUT)
            stop(haproxy)


@dataclass
class Outcome:
    kind: str  # "token GET", "token POST", "sign-in", "create"
    ok: bool
    started: float
    ended: float
    detail: str = ""
    name: str = ""


class FromClient(HTTPAdapter):
    """Connections from CLIENT's address."""

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        kwargs["source_address"] = (CLIENT, 0)
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]


def client() -> requests.Session:
    """A session from CLIENT's address that keeps no cookies (each request names its own: the
    console's cookies are Secure, and the TLS proxy is played by X-Forwarded-Proto)."""
    session = requests.Session()
    session.mount("http://", FromClient())
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


class Load:
    """Token GETs, token POSTs and console creates from a few threads, paced, until stopped."""

    def __init__(self, lb: Cluster, registry: Registry, username: str, password: str) -> None:
        self.lb, self.registry = lb, registry
        self.outcomes: list[Outcome] = []
        self.lock = threading.Condition()
        self.stop = threading.Event()
        self.names = (f"lb-{n}" for n in itertools.count())
        basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        scope = "repository:team-a/app:pull"
        self.token_get = (
            f"{lb.url}/service/token",
            {"service": registry.address, "scope": scope},
            {"Authorization": f"Basic {basic}", **HTTPS},
        )
        self.token_post = {
            "grant_type": "password",
            "client_id": "containerd",
            "service": registry.address,
            "scope": scope,
            "username": username,
            "password": password,
        }
        self.threads = [
            threading.Thread(target=self._loop, args=(self._get,)),
            threading.Thread(target=self._loop, args=(self._get,)),
            threading.Thread(target=self._loop, args=(self._post,)),
            threading.Thread(target=self._console),
        ]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=2 * TIMEOUT)

    def _record(
        self, kind: str, started: float, request: Callable[[], tuple[bool, str]], name: str = ""
    ) -> None:
        try:
            ok, detail = request()
        except requests.RequestException as exc:
            ok, detail = False, type(exc).__name__
        with self.lock:
            self.outcomes.append(Outcome(kind, ok, started, time.monotonic(), detail, name))
            self.lock.notify_all()

    def _loop(self, one: Callable[[requests.Session], None]) -> None:
        with client() as http:
            deadline = time.monotonic() + 180  # bounded even if the test forgets to stop it
            while not self.stop.is_set() and time.monotonic() < deadline:
                one(http)
                self.stop.wait(0.04)  # pacing: a steady load, not all the CPU

    def _get(self, http: requests.Session) -> None:
        url, params, headers = self.token_get

        def request() -> tuple[bool, str]:
            answer = http.get(url, params=params, headers=headers, timeout=TIMEOUT)
            return answer.status_code == 200 and "token" in answer.json(), str(answer.status_code)

        self._record("token GET", time.monotonic(), request)

    def _post(self, http: requests.Session) -> None:
        def request() -> tuple[bool, str]:
            answer = http.post(
                f"{self.lb.url}/service/token", data=self.token_post, headers=HTTPS, timeout=TIMEOUT
            )
            ok = answer.status_code == 200 and "access_token" in answer.json()
            return ok, str(answer.status_code)

        self._record("token POST", time.monotonic(), request)

    def _console(self) -> None:
        with client() as http:
            started = time.monotonic()
            try:
                headers = sign_in(http, self.lb.url)
            except (requests.RequestException, AssertionError) as exc:
                failed = Outcome("sign-in", False, started, time.monotonic(), repr(exc))
                with self.lock:
                    self.outcomes.append(failed)
                    self.lock.notify_all()
                return
            with self.lock:
                self.outcomes.append(Outcome("sign-in", True, started, time.monotonic()))
            create = self.lb.url + reverse("create_long_term", args=[self.registry.public_id])

            def one(http: requests.Session) -> None:
                with self.lock:
                    name = next(self.names)

                def request() -> tuple[bool, str]:
                    answer = http.post(
                        create, data={"name": name}, headers=headers, timeout=TIMEOUT
                    )
                    return answer.status_code == 200, str(answer.status_code)

                self._record("create", time.monotonic(), request, name)

            deadline = time.monotonic() + 180
            while not self.stop.is_set() and time.monotonic() < deadline:
                one(http)
                self.stop.wait(0.05)

    def wait_for(self, predicate: Callable[[list[Outcome]], bool], timeout: float = 60) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: predicate(self.outcomes), timeout=timeout), (
                f"the load did not get there; last outcomes: {self.outcomes[-5:]}"
            )

    def count(self, kind: str, since: float) -> int:
        return sum(o.kind == kind and o.ok and o.started > since for o in self.outcomes)


def sign_in(http: requests.Session, base: str) -> dict[str, str]:
    """Sign alice in through the load balancer, as a browser behind the TLS proxy would; the
    headers a signed-in POST carries."""
    https = HTTPS | {"Origin": f"https://{base.removeprefix('http://')}"}
    page = http.get(f"{base}/accounts/login/", headers=https, timeout=TIMEOUT)
    assert page.status_code == 200, page.status_code
    csrf = page.cookies["csrftoken"]
    answer = http.post(
        f"{base}/accounts/login/",
        data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        headers=https | {"Cookie": f"csrftoken={csrf}"},
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.status_code
    session = answer.cookies["sessionid"]
    return https | {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf}


def summary(load: Load, lb: Cluster, before: dict[str, str]) -> str:
    after = lb.stats()["BACKEND"]
    counts = {
        kind: (
            sum(o.kind == kind for o in load.outcomes),
            sum(o.kind == kind and not o.ok for o in load.outcomes),
        )
        for kind in ("token GET", "token POST", "sign-in", "create")
    }
    retried = int(after["wretr"]) - int(before["wretr"])
    redispatched = int(after["wredis"]) - int(before["wredis"])
    made = ", ".join(f"{kind}: {n} made, {failed} failed" for kind, (n, failed) in counts.items())
    return f"{made}; haproxy retried {retried}, redispatched {redispatched}"


def assert_every_acknowledged_create_stored_once(load: Load) -> None:
    acknowledged = {o.name for o in load.outcomes if o.kind == "create" and o.ok}
    assert acknowledged
    stored = list(
        LongTermCredential.objects.filter(name__startswith="lb-").values_list("name", flat=True)
    )
    assert len(stored) == len(set(stored)), "a credential was stored twice"
    assert acknowledged <= set(stored), f"acknowledged but lost: {acknowledged - set(stored)}"
    # The console saw the client's address (haproxy's X-Forwarded-For), not haproxy's.
    addresses = set(
        AuditEvent.objects.filter(credential_name__in=acknowledged).values_list(
            "ip_address", flat=True
        )
    )
    assert addresses == {CLIENT}


@pytest.fixture
def load_for(cluster: Cluster, owner: User, registry: Registry) -> Iterator[Callable[[], Load]]:
    credential, password = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci", by=Actor(user=owner)
    )
    loads: list[Load] = []

    def make() -> Load:
        loads.append(Load(cluster, registry, credential.username, password))
        return loads[-1]

    yield make
    for load in loads:
        load.stop.set()


def restart(lb: Cluster, replica: Replica) -> float:
    """One replica as README's deploy procedure restarts it: SIGTERM, wait for its exit, start
    it again, wait until haproxy sees it UP. How long it took to exit."""
    assert replica.server is not None
    signalled = time.monotonic()
    replica.server.process.send_signal(signal.SIGTERM)
    assert replica.server.process.wait(timeout=GRACEFUL_TIMEOUT + 5) == 0
    exited = time.monotonic() - signalled
    lb.start(replica, again=True)
    lb.wait_until(replica.name, "UP")
    return exited


def migrate(lb: Cluster) -> None:
    """The procedure's first step: the new release's migrations, while the old one serves."""
    env = {**os.environ, **lb.env}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = run(sys.executable, "manage.py", "migrate", "--noinput", cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.postgresql(reason="the production deployment: replicas share PostgreSQL and Redis")
@pytest.mark.django_db(transaction=True)
def test_a_rolling_restart_under_load_fails_no_token_request_and_loses_no_create(
    cluster: Cluster, load_for: Callable[[], Load]
) -> None:
    before = cluster.stats()["BACKEND"]
    with load_for() as load:
        begun = time.monotonic()
        load.wait_for(lambda o: sum(x.ok for x in o) >= 30 and load.count("create", 0) >= 3)
        migrate(cluster)
        exits = []
        for replica in cluster.replicas.values():
            exits.append(restart(cluster, replica))
            # Every replica serves again before the next one goes.
            since = time.monotonic()
            load.wait_for(lambda o, since=since: load.count("token GET", since) >= 10)
        load.wait_for(lambda o: load.count("create", begun) >= 10)
    report = summary(load, cluster, before)
    print(f"\nrolling restart: {report}; replicas exited after {exits} s")
    token_failures = [o for o in load.outcomes if o.kind.startswith("token") and not o.ok]
    assert not token_failures, f"{report}: {token_failures[:5]}"
    assert all(DRAIN_SECONDS <= seconds < GRACEFUL_TIMEOUT for seconds in exits), exits
    connection.close()
    assert_every_acknowledged_create_stored_once(load)


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.postgresql(reason="the production deployment: replicas share PostgreSQL and Redis")
@pytest.mark.django_db(transaction=True)
def test_a_replica_killed_under_load_fails_only_the_console_requests_in_flight_on_it(
    cluster: Cluster, load_for: Callable[[], Load]
) -> None:
    # The module's last test: the replica it kills stays down.
    replica = cluster.replicas["web2"]
    assert replica.server is not None
    before = cluster.stats()["BACKEND"]
    with load_for() as load:
        load.wait_for(lambda o: sum(x.ok for x in o) >= 30 and load.count("create", 0) >= 3)
        # The whole replica at once, as a container or host dies: its workers and its master.
        master = replica.server.process.pid
        killing = time.monotonic()
        for pid in [*children(master), master]:
            os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        replica.server.process.wait(timeout=10)
        cluster.wait_until(replica.name, "DOWN")
        since = time.monotonic()
        load.wait_for(lambda o: load.count("token POST", since) >= 10)
        load.wait_for(lambda o: load.count("create", since) >= 3)
    report = summary(load, cluster, before)
    print(f"\nSIGKILL: {report}")
    token_failures = [o for o in load.outcomes if o.kind.startswith("token") and not o.ok]
    assert not token_failures, f"{report}: {token_failures[:5]}"
    console = [o for o in load.outcomes if o.kind in ("sign-in", "create")]
    failed = [o for o in console if not o.ok]
    in_flight = [o for o in console if o.started < killed and o.ended > killing]
    assert len(failed) <= len(in_flight), f"{report}: {failed}"
    assert all(o in in_flight for o in failed), failed
    connection.close()
    assert_every_acknowledged_create_stored_once(load)
