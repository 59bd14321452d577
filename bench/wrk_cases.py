"""What bench/http_bench.py drives wrk with: a case (one request replayed, its server's CPU
time per request), a signed case (re-signed with an access key before each measurement; a
write signed anew for every request, since the console accepts each signed write once), and
the table's rows. Needs no Django."""

from __future__ import annotations

import os
import re
import secrets
import statistics
import subprocess
from itertools import count
from pathlib import Path
from urllib.parse import urlsplit

THREADS = 2


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> dict[str, float]:
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "15s",
    ]
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
        "requests": float(re.search(r"(\d+) requests in", output).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
    }


def server_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by a server's master and its workers (/proc):
    gunicorn's, or PostgreSQL's postmaster and its backends. A child that has exited counts in
    its master's (cutime, cstime): PostgreSQL ends a backend whenever the console closes a
    connection (CONN_MAX_AGE)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" ", 1)
        except OSError:  # the process ended meanwhile
            continue
        fields = rest.rsplit(")", 1)[1].split()  # after "(command)": state, ppid, ...
        if int(pid) == master or int(fields[1]) == master:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        if int(pid) == master:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: children waited for
    return ticks / os.sysconf("SC_CLK_TCK")


def lua(path: Path, method: str, headers: dict[str, str], body: str = "") -> Path:
    lines = [f'wrk.method = "{method}"']
    if body:
        lines.append(f'wrk.body = "{body}"')
    lines += [f'wrk.headers["{key}"] = "{value}"' for key, value in headers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def lua_each(path: Path, method: str, url: str, signed: list[dict[str, str]], body: str) -> Path:
    """A script sending each of the `signed` requests once, the threads taking turns; past the
    last it starts again (then the console refuses them as replays, and wrk's run fails)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = ["local signed = {"]
    for headers in signed:
        # wrk.format adds no Host while the script loads (wrk.host is not set yet), and the
        # signature covers it: without it every request was refused.
        fields = ", ".join(
            f'["{key}"] = "{value}"' for key, value in {"Host": parts.netloc, **headers}.items()
        )
        lines.append(f'  wrk.format("{method}", "{target}", {{{fields}}}, "{body}"),')
    lines += [
        "}",
        "local threads = 0",
        "function setup(thread) thread:set('id', threads); threads = threads + 1 end",
        "local sent = 0",
        "function request()",
        f"  local index = (sent * {THREADS} + id) % #signed + 1",
        "  sent = sent + 1",
        "  return signed[index]",
        "end",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


class Case:
    server_pid = 0
    # PostgreSQL's postmaster, when known: its backends' CPU time per request is measured too.
    database_pid = 0

    def __init__(
        self,
        label: str,
        method: str,
        url: str,
        headers: dict[str, str],
        body: str,
        work: Path,
        target: float | None = None,
        server_pid: int = 0,
    ) -> None:
        self.label, self.method, self.url, self.headers, self.body = (
            label, method, url, headers, body,
        )  # fmt: skip
        self.target = target  # the ratio target, if it has one
        self.own_server_pid = server_pid  # another server than the baseline's
        self.script = lua(work / f"{secrets.token_hex(4)}.lua", method, headers, body)

    def check(self) -> None:
        import requests

        answer = requests.request(
            self.method, self.url, headers=self.headers, data=self.body or None, timeout=15
        )
        assert answer.status_code == 200, (self.label, answer.status_code, answer.text[:300])

    def measure(self, seconds: int, connections: int) -> dict[str, float]:
        """wrk's figures, and the server's CPU time per request (less noisy than req/s)."""
        pid = self.own_server_pid or self.server_pid
        before = server_cpu_seconds(pid)
        database = self.database_pid
        database_before = server_cpu_seconds(database) if database else 0.0
        result = wrk(self.url, seconds, connections, self.script)
        spent = server_cpu_seconds(pid) - before
        database_spent = server_cpu_seconds(database) - database_before if database else 0.0
        return result | {
            "cpu_ms": 1000 * spent / result["requests"],
            "db_cpu_ms": 1000 * database_spent / result["requests"],
        }


class Signing:
    """Signs a request as huaweicloudsdkcore does (its own Signer), for wrk to replay."""

    def __init__(self, access_key_id: str, secret_key: str, project_id: str) -> None:
        self.access_key_id, self.secret_key, self.project_id = (
            access_key_id, secret_key, project_id,
        )  # fmt: skip

    def headers(self, method: str, url: str, headers: dict[str, str]) -> dict[str, str]:
        from urllib.parse import parse_qsl, urlsplit

        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkcore.sdk_request import SdkRequest
        from huaweicloudsdkcore.signer.signer import Signer

        parts = urlsplit(url)
        request = SdkRequest(
            method=method,
            schema=parts.scheme,
            host=parts.netloc,
            resource_path=parts.path,
            query_params=parse_qsl(parts.query),
            header_params={**headers, "X-Project-Id": self.project_id},
            body=b"",
        )
        Signer(BasicCredentials(self.access_key_id, self.secret_key)).sign(request)
        return {k: v for k, v in request.header_params.items() if k != "Host"}


class SignedCase(Case):
    """A request signed with an access key; signed again before each measurement, so its
    X-Sdk-Date stays within the console's 15-minute window however long the run. A write
    (any method but GET) is accepted once per signature, so each one wrk sends is signed on its
    own, told apart by a numbered header (the SDK signs every header it sends): enough for
    WRITES_PER_SECOND each second measured."""

    WRITES_PER_SECOND = 4000

    def __init__(self, signer: Signing, *args: object, **kwargs: object) -> None:
        self.signer = signer
        self.numbers = count()
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.unsigned = dict(self.headers)
        self.work = self.script.parent
        self.sign()

    def sign(self, seconds: int = 0) -> None:
        if self.method == "GET":
            self.headers = self.signer.headers(self.method, self.url, self.unsigned)
            self.script = lua(
                self.work / f"{secrets.token_hex(4)}.lua", self.method, self.headers, self.body
            )
            return
        signed = [
            self.signer.headers(
                self.method, self.url, {**self.unsigned, "X-Bench-Request": str(next(self.numbers))}
            )
            for _ in range(1 + seconds * self.WRITES_PER_SECOND)
        ]
        self.headers = signed.pop()  # for check()
        self.script = lua_each(
            self.work / f"{secrets.token_hex(4)}.lua", self.method, self.url, signed, self.body
        )

    def check(self) -> None:
        self.sign()
        super().check()

    def measure(self, seconds: int, connections: int) -> dict[str, float]:
        self.sign(seconds)
        return super().measure(seconds, connections)


def median_result(results: list[dict[str, float]]) -> dict[str, float]:
    keys = ("rps", "p50", "p99", "cpu_ms", "db_cpu_ms")
    return {key: statistics.median(r[key] for r in results) for key in keys}


def row(
    label: str,
    result: dict[str, float],
    ratio: float | None,
    each: list[float],
    cpu_ratio: float | None,
    target: float | None,
) -> str:
    rounds = ", ".join(f"{100 * r:.0f} %" for r in each)
    shown = "100 %" if ratio is None else f"**{100 * ratio:.0f} %**"
    goal = ""
    if target is not None and ratio is not None:
        goal = f"≥ {100 * target:.0f} %: {'met' if ratio >= target else 'not met'}"
    cpu = "100 %" if cpu_ratio is None else f"{100 * cpu_ratio:.0f} %"
    # A core's worth of the server's CPU serves this many a second (wrk's and the database's
    # share of the machine left out): what capacity planning multiplies by cores.
    per_core = 1000 / result["cpu_ms"] if result["cpu_ms"] else 0
    return (
        f"| {label} | {result['rps']:.0f} | {result['p50']:.2f} | {result['p99']:.2f} "
        f"| {result['cpu_ms']:.2f} | {per_core:,.0f} | {result['db_cpu_ms']:.2f} "
        f"| {shown} | {rounds} | {cpu} | {goal} |"
    )
