"""The metrics as an operator gets them: Debian's Prometheus, configured by
deploy/prometheus.yml (its replica list replaced by this test's, every other line kept),
scrapes two gunicorn replicas of two workers each and reports every token request the test
made; /metrics refuses a client outside METRICS_ALLOWED_NETWORKS unless it brings the token.
promtool accepts deploy/prometheus.yml and deploy/alerts.yml."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
import yaml
from django.core.management import call_command

from credentials.models import Registry
from tests.helpers import basic, password_grant, refresh_grant
from tests.servers import ROOT, Gunicorn, free_port, gunicorn, stop

pytestmark = pytest.mark.django_db(transaction=True)

DEPLOY = ROOT / "deploy"
TOKEN = "prometheus-test-token-0123456789abcdefghijklmnop"
REPLICAS = 2
# Loopback addresses other than 127.0.0.1 (all of 127/8 is this machine's): the clients of
# the token service, and one outside METRICS_ALLOWED_NETWORKS (127.0.0.1 only here).
CLIENT = "127.0.0.3"
OUTSIDE = "127.0.0.2"
# Replaced in deploy/prometheus.yml: the replicas' discovery, from its first line to its last.
DISCOVERY_FIRST, DISCOVERY_LAST = "    dns_sd_configs:", "        refresh_interval: 15s"


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is needed (Debian: apt-get install prometheus; scripts/system-deps.sh)"
        )
    return path


def call(
    url: str,
    method: str = "GET",
    path: str = "/",
    *,
    source: str = CLIENT,
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> tuple[int, str]:
    """One request from the loopback address `source`, on a connection of its own."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        connection.request(
            method, path, body=body, headers={"Connection": "close", **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="swrconsole-prometheus-"))
    (directory / "metrics-token").write_text(TOKEN + "\n")
    call_command(
        "create_registry_token_keys",
        key=str(directory / "token.key"),
        cert=str(directory / "token.crt"),
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def replicas(workdir: Path, django_db_setup, django_db_blocker) -> Iterator[list[Gunicorn]]:
    """Two replicas of two workers each (tests/servers.py's production settings), the token
    read from a file as a Docker secret would be."""
    env = {
        "WEB_CONCURRENCY": "2",
        "GUNICORN_ACCESS_LOG": "-",
        "DRAIN_SECONDS": "0",  # no load balancer here to drain from
        "REGISTRY_TOKEN_KEY_FILE": str(workdir / "token.key"),
        "REGISTRY_TOKEN_CERT_FILE": str(workdir / "token.crt"),
        "METRICS_ALLOWED_NETWORKS": "127.0.0.1",
        "METRICS_TOKEN_FILE": str(workdir / "metrics-token"),
    }
    with django_db_blocker.unblock(), ExitStack() as stack:
        yield [stack.enter_context(gunicorn(f"metrics-{n}", **env)) for n in range(REPLICAS)]


def prometheus_config(targets: list[str]) -> str:
    """deploy/prometheus.yml with its replica discovery replaced by `targets`."""
    lines = (DEPLOY / "prometheus.yml").read_text().splitlines()
    first, last = lines.index(DISCOVERY_FIRST), lines.index(DISCOVERY_LAST)
    static = ["    static_configs:", f"      - targets: {json.dumps(targets)}"]
    return "\n".join([*lines[:first], *static, *lines[last + 1 :]]) + "\n"


def start_prometheus(workdir: Path, targets: list[str]) -> tuple[subprocess.Popen, str]:
    config = workdir / "prometheus.yml"
    config.write_text(prometheus_config(targets))
    shutil.copy(DEPLOY / "alerts.yml", workdir / "alerts.yml")
    port = free_port()
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


def until(condition, what: str, process: subprocess.Popen, log: Path, timeout: float = 90):
    """Poll `condition` (None: not yet) until it answers, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited:\n{log.read_text(errors='replace')}")
        try:
            answer = condition()
        except requests.ConnectionError:
            answer = None
        if answer is not None:
            return answer
        time.sleep(0.2)  # polling a separate process's progress, bounded by the deadline
    pytest.fail(f"prometheus: {what} within {timeout:g} s:\n{log.read_text(errors='replace')}")


def scraped_all(api: str, count: int):
    """The targets, once Prometheus has scraped every one of them successfully."""
    targets = requests.get(f"{api}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
    done = [t for t in targets if t["health"] == "up"]
    return targets if len(targets) == count and len(done) == count else None


def query(api: str, promql: str) -> list[dict]:
    answer = requests.get(f"{api}/api/v1/query", params={"query": promql}, timeout=5).json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def serving_pids(server: Gunicorn) -> set[int]:
    pids = set()
    for line in server.log_text().splitlines():
        if '"gunicorn.access"' in line and "/service/token" in line:
            pids.add(json.loads(line[line.index("{") :])["pid"])
    return pids


def test_prometheus_counts_every_token_request_summed_over_replicas_and_workers(
    replicas: list[Gunicorn], workdir: Path, credential, registry: Registry
) -> None:
    cred, password = credential
    service = registry.address
    https = {"X-Forwarded-Proto": "https"}
    form = {**https, "Content-Type": "application/x-www-form-urlencoded"}
    made: dict[tuple[str, str], int] = {}
    made_at = {replica.url.removeprefix("http://"): 0 for replica in replicas}

    def token(url: str, flow: str, outcome: str, method: str, path: str, **kw) -> str:
        status, body = call(url, method, path, **kw)
        assert status == (200 if outcome == "granted" else 401), body
        made[(flow, outcome)] = made.get((flow, outcome), 0) + 1
        made_at[url.removeprefix("http://")] += 1
        return body

    get_path = "/service/token?" + urlencode({"service": service, "scope": "repository:a/b:pull"})
    login = {**https, "Authorization": basic(cred.username, password)}
    for replica in replicas:
        for _ in range(6):
            token(replica.url, "basic", "granted", "GET", get_path, headers=login)
        for _ in range(2):
            token(replica.url, "basic", "refused", "GET", get_path,
                  headers={**https, "Authorization": basic(cred.username, "wrong-password")})  # fmt: skip
        grant = password_grant(cred, password, service, access_type="offline")
        body = token(replica.url, "password", "granted", "POST", "/service/token",
                     headers=form, body=urlencode(grant))  # fmt: skip
        refresh = urlencode(refresh_grant(json.loads(body)["refresh_token"], service))
        for _ in range(3):
            token(replica.url, "refresh", "granted", "POST", "/service/token",
                  headers=form, body=refresh)  # fmt: skip
        token(replica.url, "password", "refused", "POST", "/service/token", headers=form,
              body=urlencode(password_grant(cred, "wrong-password", service)))  # fmt: skip
        # Both workers of the replica served some, so the sums below are over their two
        # files: which worker accepts a connection is the kernel's choice, so more logins
        # (counted like the others) until the access log shows the second.
        for _ in range(200):
            if len(serving_pids(replica)) == 2:
                break
            token(replica.url, "basic", "granted", "GET", get_path, headers=login)
    assert [len(serving_pids(replica)) for replica in replicas] == [2] * REPLICAS

    targets = [replica.url.removeprefix("http://") for replica in replicas]
    process, api = start_prometheus(workdir, targets)
    log = workdir / "prometheus.log"
    try:
        until(lambda: scraped_all(api, REPLICAS), "every replica scraped", process, log)
        total = query(api, "sum(swr_console_token_requests_total)")
        by_kind = query(api, "sum by (flow, outcome) (swr_console_token_requests_total)")
        timed = query(api, "sum(swr_console_token_request_seconds_count)")
        per_replica = query(api, "sum by (instance) (swr_console_token_requests_total)")
        series = requests.get(
            f"{api}/api/v1/series", params={"match[]": '{__name__=~"swr_console_.+"}'}, timeout=5
        ).json()["data"]
    finally:
        stop(process)

    assert float(total[0]["value"][1]) == sum(made.values()) >= REPLICAS * 13
    counted = {
        (r["metric"]["flow"], r["metric"]["outcome"]): int(float(r["value"][1]))
        for r in by_kind
        if float(r["value"][1])
    }
    assert counted == made
    assert float(timed[0]["value"][1]) == sum(made.values())
    assert {r["metric"]["instance"]: int(float(r["value"][1])) for r in per_replica} == made_at
    # No label value carries what the requests carried: usernames, passwords, addresses.
    carried = [cred.username, password, "wrong-password", CLIENT, service, cred.owner.username]
    values = {value for labels in series for name, value in labels.items() if name != "instance"}
    assert [text for text in carried if any(text in value for value in values)] == []


def test_metrics_from_outside_the_allowed_networks_need_the_token(
    replicas: list[Gunicorn],
) -> None:
    url = replicas[0].url
    refused = call(url, "GET", "/metrics", source=OUTSIDE)
    assert refused[0] == 403
    assert "swr_console" not in refused[1]
    spoofed = call(url, "GET", "/metrics", source=OUTSIDE, headers={"X-Forwarded-For": "127.0.0.1"})
    assert spoofed[0] == 403
    wrong = call(url, "GET", "/metrics", source=OUTSIDE, headers={"Authorization": "Bearer nope"})
    assert wrong[0] == 403
    bearer = call(
        url, "GET", "/metrics", source=OUTSIDE, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert bearer[0] == 200
    assert "swr_console_token_requests_total" in bearer[1]
    inside = call(url, "GET", "/metrics", source="127.0.0.1")
    assert inside[0] == 200


def token_total(url: str) -> float:
    status, text = call(url, "GET", "/metrics", source="127.0.0.1")
    assert status == 200
    return sum(
        float(line.rpartition(" ")[2])
        for line in text.splitlines()
        if line.startswith("swr_console_token_requests_total{")
    )


def workers(master: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return {int(pid) for pid in found.stdout.split()}


def test_a_killed_workers_counts_stay_in_the_sum_and_its_successor_counts_too(
    replicas: list[Gunicorn], registry: Registry
) -> None:
    replica = replicas[-1]
    query = urlencode({"service": registry.address})
    refusal = {"Authorization": basic("nobody", "wrong"), "X-Forwarded-Proto": "https"}

    def refused(times: int) -> set[int]:
        return {
            call(replica.url, "GET", f"/service/token?{query}", headers=refusal)[0]
            for _ in range(times)
        }

    # Counted by either worker, or both.
    assert refused(4) == {401}
    before, old = token_total(replica.url), workers(replica.process.pid)
    assert before >= 4
    assert len(old) == 2
    for victim in old:  # each in turn: whichever counted, its counts outlive it
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(workers(replica.process.pid) - {victim}) < 2:  # gunicorn starts another
            assert time.monotonic() < deadline, "gunicorn did not replace the killed worker"
            time.sleep(0.05)  # polling another process's progress, bounded by the deadline
        assert token_total(replica.url) == before
    assert not workers(replica.process.pid) & old
    assert refused(4) == {401}
    assert token_total(replica.url) == before + 4


def test_promtool_accepts_the_shipped_rules_and_configuration(workdir: Path) -> None:
    promtool = binary("promtool")
    rules = subprocess.run(
        [promtool, "check", "rules", str(DEPLOY / "alerts.yml")], capture_output=True, text=True
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS: 5 rules found" in rules.stdout
    # The shipped file as it is, beside the token file and the rules it names.
    directory = workdir / "shipped"
    directory.mkdir()
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(DEPLOY / name, directory / name)
    shutil.copy(workdir / "metrics-token", directory / "metrics-token")
    config = subprocess.run(
        [promtool, "check", "config", str(directory / "prometheus.yml")],
        capture_output=True,
        text=True,
    )
    assert config.returncode == 0, config.stdout + config.stderr
    assert "SUCCESS" in config.stdout


def series(name: str, values: str, **labels: str) -> dict[str, str]:
    shown = ",".join(f'{key}="{value}"' for key, value in {"job": "swr-console", **labels}.items())
    return {"series": f"{name}{{{shown}}}", "values": values}


TOKENS = "swr_console_token_requests_total"
BUCKETS = "swr_console_token_request_seconds_bucket"
UPSTREAM = "swr_console_upstream_requests_total"
BACKLOG = "swr_console_audit_stream_backlog"
# Each alert, the series (one sample a minute for 30 minutes) that should set it off, and
# series as close that should not.
ALERT_CASES = {
    "SwrConsoleTokenErrors": (
        [series(TOKENS, "0+100x30", flow="basic", outcome="granted", instance="a"),
         series(TOKENS, "0+5x30", flow="basic", outcome="error", instance="b")],
        # Refused and throttled requests are the clients' doing, however many.
        [series(TOKENS, "0+100x30", flow="basic", outcome="granted", instance="a"),
         series(TOKENS, "0+500x30", flow="basic", outcome="refused", instance="a"),
         series(TOKENS, "0+500x30", flow="password", outcome="throttled", instance="b")],
    ),
    "SwrConsoleTokenSlow": (
        [series(BUCKETS, "0+20x30", flow="basic", le="0.25", instance="a"),
         series(BUCKETS, "0+90x30", flow="basic", le="0.5", instance="a"),
         series(BUCKETS, "0+100x30", flow="basic", le="1.0", instance="a"),
         series(BUCKETS, "0+100x30", flow="basic", le="+Inf", instance="a")],
        [series(BUCKETS, "0+20x30", flow="basic", le="0.25", instance="a"),
         series(BUCKETS, "0+97x30", flow="basic", le="0.5", instance="a"),
         series(BUCKETS, "0+100x30", flow="basic", le="1.0", instance="a"),
         series(BUCKETS, "0+100x30", flow="basic", le="+Inf", instance="a")],
    ),
    "SwrConsoleUpstreamFailures": (
        [series(UPSTREAM, "0+10x30", service="swr", outcome="ok", instance="a"),
         series(UPSTREAM, "0+5x30", service="swr", outcome="timeout", instance="b")],
        [series(UPSTREAM, "0+100x30", service="swr", outcome="ok", instance="a"),
         series(UPSTREAM, "0+5x30", service="iam", outcome="unreachable", instance="b")],
    ),
    # Every replica reports the installation's one backlog: its max, never its sum, counts.
    "SwrConsoleAuditStreamBacklog": (
        [series(BACKLOG, "500x30", instance="a"), series(BACKLOG, "500x30", instance="b")],
        [series(BACKLOG, "60x30", instance="a"), series(BACKLOG, "60x30", instance="b")],
    ),
    "SwrConsoleReplicaDown": (
        [series("up", "1x30", instance="a"), series("up", "0x30", instance="b")],
        [series("up", "1x30", instance="a"), series("up", "1x30", instance="b")],
    ),
}  # fmt: skip


def test_each_alert_fires_on_what_it_watches_and_not_on_what_is_close(workdir: Path) -> None:
    # The rules as shipped, their annotations left out (their templates are promtool check
    # rules' business; a unit test would have to repeat every rendered text).
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    shipped = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert shipped == set(ALERT_CASES)
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (workdir / "alerts-bare.yml").write_text(yaml.safe_dump(rules))
    tests = []
    for alert, (firing, quiet) in ALERT_CASES.items():
        severity = next(
            rule["labels"]["severity"]
            for group in rules["groups"]
            for rule in group["rules"]
            if rule["alert"] == alert
        )
        for inputs, expected in ((firing, [{"exp_labels": {"severity": severity}}]), (quiet, [])):
            tests.append({
                "interval": "1m",
                "input_series": inputs,
                "alert_rule_test": [{"eval_time": "28m", "alertname": alert, "exp_alerts": [
                    {**e, "exp_labels": {**e["exp_labels"], **_own_labels(alert, inputs)}}
                    for e in expected
                ]}],
            })  # fmt: skip
    unit = workdir / "alerts-test.yml"
    unit.write_text(yaml.safe_dump({"rule_files": ["alerts-bare.yml"], "tests": tests}))
    result = subprocess.run(
        [binary("promtool"), "test", "rules", str(unit)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _own_labels(alert: str, inputs: list[dict[str, str]]) -> dict[str, str]:
    """The labels an alert keeps from its series: the down replica's, for a replica down."""
    if alert != "SwrConsoleReplicaDown":
        return {}
    return {"job": "swr-console", "instance": "b"}
