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
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "swrconsole.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "CREDENTIAL_HASH_KEY": "bench-only-hash-key",
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

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from credentials.models import Actor, LongTermCredential, Registry, User  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(credentials: int, keys: Path) -> dict[str, str]:
    call_command("migrate", verbosity=0)
    call_command("seed_demo_data", credentials=credentials, events=10_000, bench_credentials=1000)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("create_registry_token_keys", key=str(keys / "k.pem"), cert=str(keys / "c.pem"))
    registry = Registry.objects.get(
        address=os.environ.get("SWR_DEFAULT_REGISTRY_ADDRESS", "swr.cn-north-4.myhuaweicloud.com")
    )
    robot, _ = User.objects.get_or_create(username="token-bench")
    credential, password = LongTermCredential.objects.create_for(
        owner=robot, registry=registry, name=f"bench-{secrets.token_hex(3)}", by=Actor(user=robot)
    )
    bench = User.objects.get(username="bench")
    client = Client()
    client.force_login(bench)
    return {
        "registry_id": str(registry.public_id),
        "service": registry.address,
        "session": client.cookies["sessionid"].value,
        "basic": base64.b64encode(f"{credential.username}:{password}".encode()).decode(),
        "count": str(LongTermCredential.objects.for_user(bench).in_registry(registry).count()),
        "total": str(LongTermCredential.objects.in_registry(registry).count()),
    }


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "15s"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors or "Socket errors" in output:
        raise SystemExit(f"wrk saw failed requests for {url}:\n{output}")

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
    }


def lua(path: Path, method: str, headers: dict[str, str], body: str = "") -> Path:
    lines = [f'wrk.method = "{method}"']
    if body:
        lines.append(f'wrk.body = "{body}"')
    lines += [f'wrk.headers["{key}"] = "{value}"' for key, value in headers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--generate-connections",
        type=int,
        default=6,
        help="Each generate holds a thread while the console calls its own built-in API: "
        "keep this under half the threads so those calls always find one free.",
    )
    parser.add_argument("--credentials", type=int, default=100_000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="swrconsole-bench-"))
    facts = prepare(args.credentials, work)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": "",
        "SWR_BUILTIN_URL": base,
        "REGISTRY_TOKEN_KEY_FILE": str(work / "k.pem"),
        "REGISTRY_TOKEN_CERT_FILE": str(work / "c.pem"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "swrconsole.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "gunicorn.log", "w"),  # noqa: SIM115
    )
    try:
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited: {(work / 'gunicorn.log').read_text()}")
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        csrf = secrets.token_hex(16)
        cookie = {"Cookie": f"sessionid={facts['session']}; csrftoken={csrf}"}
        tab = f"{base}/registries/{facts['registry_id']}/access-credentials/long-term/"
        generate = (
            f"{base}/registries/{facts['registry_id']}/access-credentials/temporary/generate/"
        )
        token = (
            f"{base}/service/token?service={facts['service']}&scope=repository:bench/app:pull,push"
        )
        cases = [
            ("minimal view (/ping)", f"{base}/ping", None, 200),
            (f"long-term tab ({facts['count']} of {facts['total']} credentials)", tab,
             lua(work / "tab.lua", "GET", cookie), 200),
            ("temporary generate (built-in upstream)", generate,
             lua(work / "gen.lua", "POST", cookie | {
                 "X-CSRFToken": csrf, "Content-Type": "application/x-www-form-urlencoded",
             }, "kind=image"), 200),
            ("registry token (long-term credential)", token,
             lua(work / "token.lua", "GET", {"Authorization": f"Basic {facts['basic']}"}), 200),
        ]  # fmt: skip
        for label, url, script, status in cases:  # each must work before it is measured
            headers = (
                dict(re.findall(r'wrk.headers\["(.+?)"\] = "(.+?)"', script.read_text()))
                if script
                else {}
            )
            method = "POST" if script and "POST" in script.read_text() else "GET"
            answer = requests.request(
                method,
                url,
                headers=headers,
                data="kind=image" if method == "POST" else None,
                timeout=15,
            )
            assert answer.status_code == status, (label, answer.status_code, answer.text[:300])

        print(
            f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"gunicorn gthread {env.get('WEB_CONCURRENCY', '2')} workers × "
            f"{env.get('GUNICORN_THREADS', '8')} threads; wrk -t2 -d{args.seconds}s on the same "
            "machine\n"
        )
        table = [
            "| endpoint | connections | req/s | p50 ms | p99 ms | ratio to minimal |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        baseline = None
        for label, url, script, _ in cases:
            connections = args.generate_connections if "generate" in label else args.connections
            result = wrk(url, args.seconds, connections, script)
            baseline = baseline or result["rps"]
            table.append(
                f"| {label} | {connections} | {result['rps']:.0f} | {result['p50']:.2f} "
                f"| {result['p99']:.2f} | {100 * result['rps'] / baseline:.0f} % |"
            )
            print(table[-1] if len(table) > 3 else "\n".join(table))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "http.md").write_text("\n".join(table) + "\n")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
