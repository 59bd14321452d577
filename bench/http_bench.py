"""Requests per second and latency of the console's hot paths, as ratios to a minimal view.

Starts gunicorn (gunicorn.conf.py, production settings, PostgreSQL) and drives it with wrk
from Debian, all endpoints in one run so the ratios compare like with like. Run it with
`make bench-http` (a throwaway PostgreSQL) — see bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "swrconsole.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "CREDENTIAL_HASH_KEY": "bench-only-hash-key",
    "ACCESS_KEY_ENCRYPTION_KEYS": "YmVuY2gtb25seS1hY2Nlc3Mta2V5LWVuY3J5cHRpb24=",
    "ALLOWED_HOSTS": "127.0.0.1,testserver",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
    "TEMPORARY_CREDENTIALS_PER_MINUTE": "100000000",
}
os.environ.update({key: os.environ.get(key, value) for key, value in BENCH_ENV.items()})

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from bench.wrk_cases import Case, SignedCase, Signing, median_result, row  # noqa: E402
from credentials.models import (  # noqa: E402
    AccessKey,
    Actor,
    AuditEvent,
    LongTermCredential,
    Organization,
    Permission,
    RefreshToken,
    Registry,
    User,
)
from credentials.rules import EDIT  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(
    credentials: int, organizations: int, grants: int, keys: Path, *, seed: bool = True
) -> dict[str, str]:
    call_command("migrate", verbosity=0)
    if seed:
        call_command(
            "seed_demo_data", credentials=credentials, events=10_000, bench_credentials=1000,
            organizations=organizations, grants=grants,
        )  # fmt: skip
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("create_registry_token_keys", key=str(keys / "k.pem"), cert=str(keys / "c.pem"))
    registry = Registry.objects.get(
        address=os.environ.get("SWR_DEFAULT_REGISTRY_ADDRESS", "swr.cn-north-4.myhuaweicloud.com")
    )
    robot, _ = User.objects.get_or_create(username="token-bench")
    credential, password = LongTermCredential.objects.create_for(
        owner=robot, registry=registry, name=f"bench-{secrets.token_hex(3)}", by=Actor(user=robot)
    )
    # The token's scope is bench/app: the robot holds Edit on organization `bench`, and is in
    # two of the seeded groups, which hold grants of their own in other organizations.
    operator = Actor(user=None, username="bench", channel=AuditEvent.Channel.SYSTEM)
    organization = Organization.objects.filter(registry=registry, name="bench").first()
    if organization is None:
        organization = Organization.objects.create_for(registry=registry, name="bench", by=operator)
    organization.grant(level=EDIT, by=operator, user=robot)
    robot.groups.add(*Group.objects.filter(organization_permissions__isnull=False).distinct()[:2])
    bench = User.objects.get(username="bench")
    client = Client()
    client.force_login(bench)
    # A user who has opened the registry before: their session cookie already holds its region
    # (a browser keeps the cookie the first visit sets; wrk replays the one it was given).
    tab = f"/registries/{registry.public_id}/access-credentials/long-term/"
    assert client.get(tab, HTTP_HOST="127.0.0.1").status_code == 200
    # An access key of `bench`, for the AK/SK-signed API requests (Huawei's SDK's way).
    AccessKey.objects.filter(user=bench).delete()
    key, secret_key = AccessKey.objects.create_for(user=bench, by=Actor(user=bench))
    return {
        "access_key_id": key.access_key_id,
        "secret_key": secret_key,
        "project_id": registry.project_id,
        "registry_id": str(registry.public_id),
        "service": registry.address,
        "session": client.cookies["sessionid"].value,
        "basic": base64.b64encode(f"{credential.username}:{password}".encode()).decode(),
        "username": credential.username,
        "password": password,
        "refresh_token": RefreshToken.objects.issue(
            service=registry.address,
            long_term_id=credential.pk,
            password_version=credential.password_version,
        ),
        "count": str(LongTermCredential.objects.for_user(bench).in_registry(registry).count()),
        "organizations": f"{Organization.objects.in_registry(registry).count():,}",
        "grants": f"{Permission.objects.filter(organization__registry=registry).count():,}",
        "total": str(LongTermCredential.objects.in_registry(registry).count()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=6, help="wrk run per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--credentials", type=int, default=100_000)
    parser.add_argument("--organizations", type=int, default=1000)
    parser.add_argument("--grants", type=int, default=100_000)
    parser.add_argument("--no-seed", action="store_true", help="reuse the data already there")
    parser.add_argument("--only", default="", help="measure only endpoints whose label has this")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="swrconsole-bench-"))
    facts = prepare(args.credentials, args.organizations, args.grants, work, seed=not args.no_seed)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": "",
        # The production settings plus the floors' URLs (bench/settings.py, bench/floors.py).
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "REGISTRY_TOKEN_KEY_FILE": str(work / "k.pem"),
        "REGISTRY_TOKEN_CERT_FILE": str(work / "c.pem"),
    }
    server = gunicorn(env, work / "gunicorn.log")
    # The same server with its counters in Redis (a throwaway redis-server), for the token
    # endpoint beside the one counting in its own memory.
    redis_port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--dir", str(work),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    others = {
        "redis": {"CACHE_URL": f"redis://127.0.0.1:{redis_port}/0"},
        # Each piece of machinery alone: the same server without it (bench/settings.py).
        "no-page-cache": {"BENCH_WITHOUT": "page_cache"},
        # The metrics (credentials/metrics) cost: the same server counting nothing.
        "no-metrics": {"METRICS_ENABLED": "false"},
    }
    bases, servers = {}, {}
    for name, extra in others.items():
        other_port = free_port()
        bases[name] = f"http://127.0.0.1:{other_port}"
        servers[name] = gunicorn(
            env | {"GUNICORN_BIND": f"127.0.0.1:{other_port}", **extra},
            work / f"gunicorn-{name}.log",
        )
    try:
        wait_until_healthy(server, base)
        for name, other in servers.items():
            wait_until_healthy(other, bases[name])
        Case.server_pid = server.pid
        Case.database_pid = postmaster()
        csrf = secrets.token_hex(16)
        cookie = {"Cookie": f"sessionid={facts['session']}; csrftoken={csrf}"}
        registry = f"{base}/registries/{facts['registry_id']}/access-credentials"
        token = (
            f"{base}/service/token?service={facts['service']}&scope=repository:bench/app:pull,push"
        )
        # Generate is posted as the page's htmx form posts it: CSRF header, HX-Request.
        generate_headers = cookie | {
            "X-CSRFToken": csrf,
            "Content-Type": "application/x-www-form-urlencoded",
            "HX-Request": "true",
        }
        basic = {"Authorization": f"Basic {facts['basic']}"}
        # The OAuth2 flow as containerd sends it (POST, form-encoded, scope space-separated).
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        oauth = {
            "client_id": "containerd-client",
            "service": facts["service"],
            "scope": "repository:bench/app:pull,push",
        }
        password_grant = urlencode(
            {"grant_type": "password", "username": facts["username"],
             "password": facts["password"], **oauth}
        )  # fmt: skip
        refresh_grant = urlencode(
            {"grant_type": "refresh_token", "refresh_token": facts["refresh_token"], **oauth}
        )
        floor = f"{base}/bench-floor"
        baseline = Case("minimal view (/ping)", "GET", f"{base}/ping", {}, "", work)
        signer = Signing(facts["access_key_id"], facts["secret_key"], facts["project_id"])
        instance = f"{base}/v2/{facts['project_id']}/instances/{facts['registry_id']}"
        signed_list = f"{instance}/long-term-credentials?offset=0&limit=100&self_only=true"
        signed_floor = f"{floor}/registries/{facts['registry_id']}"
        # Each target's endpoint follows its floor: the least the requirement itself makes
        # it do, on the same server (bench/floors.py).
        cases = [
            Case("floor: the tab's cached page (signed-in GET, the page from the cache)", "GET",
                 f"{floor}/registries/{facts['registry_id']}/cached-page", cookie, "", work),
            Case(f"long-term tab ({facts['count']} of {facts['total']} credentials)", "GET",
                 f"{registry}/long-term/", cookie, "", work, target=0.40),
            # Searched, filtered and sorted: within 5 points of the floor above (issue 17).
            Case("long-term tab searched and sorted (?q=svc&status=enabled&sort=-last_used)",
                 "GET", f"{registry}/long-term/?q=svc&status=enabled&sort=-last_used&page=2",
                 cookie, "", work),
            Case("floor: a signed-in POST (session, CSRF, user row)", "POST",
                 f"{floor}/signed-in-post", generate_headers, "kind=image", work),
            Case("floor: generate (signed-in POST + credential and event stored)", "POST",
                 f"{floor}/registries/{facts['registry_id']}/generate", generate_headers,
                 "kind=image", work),
            Case("temporary generate (built-in upstream)", "POST",
                 f"{registry}/temporary/generate/", generate_headers, "kind=image", work,
                 target=0.30),
            Case("floor: token (one lookup + signed JWT)", "GET",
                 token.replace("/service/token", "/bench-floor/token"), basic, "", work),
            Case("floor: token with permissions (one lookup + the grant's indexed lookup + "
                 "signed JWT)", "GET",
                 token.replace("/service/token", "/bench-floor/token-with-permissions"), basic,
                 "", work),
            Case(f"registry token, with permissions (long-term credential; "
                 f"{facts['organizations']} organizations, {facts['grants']} grants)", "GET",
                 token, basic, "", work, target=0.50),
            # The row above counts (the production default); this one does not: within 3 points.
            Case("registry token, with permissions, metrics off (same server, "
                 "METRICS_ENABLED=false)", "GET", token.replace(base, bases["no-metrics"]), basic,
                 "", work, server_pid=servers["no-metrics"].pid),
            SignedCase(signer, "floor: AK/SK-signed list (signature check + one page as JSON)",
                       "GET", f"{signed_floor}/signed-list", {}, "", work),
            SignedCase(signer, "AK/SK-signed list_instance_lt_credentials (100 of "
                       f"{facts['count']})", "GET", signed_list, {}, "", work),
            SignedCase(signer, "floor: AK/SK-signed create_secret (signature check + credential "
                       "and event stored)", "POST", f"{signed_floor}/signed-secret",
                       {"Content-Type": "application/json"}, "", work),
            SignedCase(signer, "AK/SK-signed create_secret", "POST",
                       f"{base}/v2/manage/utils/secret", {"Content-Type": "application/json"},
                       "", work),
            Case("floor: token with permissions and one Redis round trip (the Redis row's "
                 "server)", "GET",
                 token.replace(base, bases["redis"]).replace(
                     "/service/token", "/bench-floor/token-with-redis"), basic, "", work,
                 server_pid=servers["redis"].pid),
            Case("registry token, counters in Redis (same server, CACHE_URL=redis://)", "GET",
                 token.replace(base, bases["redis"]), basic, "", work,
                 server_pid=servers["redis"].pid),
            # Each piece of machinery alone: the endpoint it serves, on a server without it.
            Case("long-term tab without the page cache (same server, BENCH_WITHOUT=page_cache)",
                 "GET", f"{registry}/long-term/".replace(base, bases["no-page-cache"]), cookie,
                 "", work, server_pid=servers["no-page-cache"].pid),
            Case("floor: token POST (form + the one lookup + the grant's lookup + signed JWT)",
                 "POST",
                 f"{floor}/token-post", form, password_grant, work),
            Case("registry token POST (OAuth2 password grant)", "POST",
                 f"{base}/service/token", form, password_grant, work),
            Case("floor: token refresh (form + the token's lookup + the grant's lookup + "
                 "signed JWT)", "POST",
                 f"{floor}/token-refresh", form, refresh_grant, work),
            Case("registry token refresh (OAuth2 refresh grant)", "POST",
                 f"{base}/service/token", form, refresh_grant, work),
        ]  # fmt: skip
        # --only "a|b": the endpoints whose label contains a or b.
        cases = [case for case in cases if any(o in case.label for o in args.only.split("|"))]
        for case in [baseline, *cases]:  # each must work before it is measured
            case.check()

        print(
            f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"gunicorn gthread {env.get('WEB_CONCURRENCY', 2 * (os.cpu_count() or 1))} workers × "
            f"{env.get('GUNICORN_THREADS', '4')} threads; wrk -t2 -c{args.connections} "
            f"-d{args.seconds}s on the same machine; {args.rounds} rounds\n"
        )
        # The machine's speed drifts during a run (shared host, CPU quotas), so every
        # measurement of an endpoint is bracketed by measurements of the baseline, and its
        # ratio is to the mean of the two. The median over rounds is reported.
        ratios: dict[str, list[float]] = {case.label: [] for case in cases}
        # The same comparison by the server's CPU time per request: the baseline's over the
        # endpoint's. It leaves out wrk's and PostgreSQL's share of the two cores, but moves
        # far less with the machine's speed than req/s does.
        cpu_ratios: dict[str, list[float]] = {case.label: [] for case in cases}
        results: dict[str, list[dict[str, float]]] = {case.label: [] for case in cases}
        pings: list[dict[str, float]] = [baseline.measure(args.seconds, args.connections)]
        for round_number in range(1, args.rounds + 1):
            for case in cases:
                result = case.measure(args.seconds, args.connections)
                pings.append(baseline.measure(args.seconds, args.connections))
                ratio = result["rps"] / statistics.mean(p["rps"] for p in pings[-2:])
                ratios[case.label].append(ratio)
                baseline_cpu = statistics.mean(p["cpu_ms"] for p in pings[-2:])
                cpu_ratios[case.label].append(baseline_cpu / result["cpu_ms"])
                results[case.label].append(result)
                print(
                    f"round {round_number}: {case.label}: {result['rps']:.0f} req/s "
                    f"({result['cpu_ms']:.2f} ms server CPU each), "
                    f"baseline {pings[-2]['rps']:.0f} → {pings[-1]['rps']:.0f}, "
                    f"ratio {100 * ratio:.0f} %",
                    flush=True,
                )
        table = [
            "| endpoint | req/s | p50 ms | p99 ms | server CPU ms/request | req/s per core "
            "| PostgreSQL CPU ms/request | ratio to minimal (median) | each round "
            "| CPU ratio (median) | target |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
            row(baseline.label, median_result(pings), None, [], None, None),
        ]
        for case in cases:
            each = ratios[case.label]
            result = median_result(results[case.label])
            cpu = statistics.median(cpu_ratios[case.label])
            table.append(row(case.label, result, statistics.median(each), each, cpu, case.target))
        print("\n" + "\n".join(table))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "http.md").write_text("\n".join(table) + "\n")
    finally:
        for process in (server, *servers.values(), redis):
            process.terminate()
            process.wait(timeout=30)


def postmaster() -> int:
    """The throwaway PostgreSQL's postmaster (scripts/with-postgres.sh exports its data
    directory), so its backends' CPU is measured too; 0 for a database we did not start."""
    data = os.environ.get("SWR_TEST_PGDATA", "")
    try:
        return int((Path(data) / "postmaster.pid").read_text().split()[0]) if data else 0
    except (OSError, ValueError, IndexError):
        return 0


def gunicorn(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "swrconsole.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),
    )


def wait_until_healthy(server: subprocess.Popen, base: str) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn on {base} exited: see its log beside the keys")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            # Not listening yet, or a loaded machine answering its first request slowly.
            time.sleep(0.2)
    raise SystemExit("gunicorn did not become healthy within 60 s")


if __name__ == "__main__":
    main()
