"""README's "Huawei's API" examples, run exactly as written against a live console: the Python
SDK block with Huawei's SDK, and each curl block with curl."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from credentials.models import LongTermCredential, Registry, User
from tests.helpers import PASSWORD, new_access_key

pytestmark = pytest.mark.django_db(transaction=True)

README = Path(__file__).resolve().parent.parent / "README.md"


def section() -> str:
    text = README.read_text()
    start = text.index("## Huawei's API\n")
    return text[start : text.index("\n## ", start + 1)]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), flags=re.DOTALL)


def run_curl(block: str, env: dict[str, str]) -> tuple[int, dict[str, str], str]:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ["PATH"], **env},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    head, _, body = result.stdout.replace("\r\n", "\n").partition("\n\n")
    status_line, *header_lines = head.split("\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def test_the_python_sdk_example_runs_as_written(
    live_server, owner: User, registry: Registry
) -> None:
    (code,) = blocks("python")
    key, secret_key = new_access_key(owner)
    printed = io.StringIO()
    names = {
        "CONSOLE": live_server.url,
        "AK": key.access_key_id,
        "SK": secret_key,
        "PROJECT_ID": registry.project_id,
        "INSTANCE_ID": str(registry.public_id),
    }
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), names)  # noqa: S102 - the README's own example
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("docker login -u cn-north-4@")
    credential = LongTermCredential.objects.get(name="ci-bot")
    assert lines[1].split()[0] == credential.username
    assert lines[2] == "1 ['ci-bot']"


def test_each_curl_example_runs_as_written(live_server, owner: User, registry: Registry) -> None:
    token_block, *operations = blocks("sh")
    env = {
        "CONSOLE": live_server.url,
        "CONSOLE_USER": "alice",
        "CONSOLE_PASSWORD": PASSWORD,
        "PROJECT_ID": registry.project_id,
        "INSTANCE_ID": str(registry.public_id),
    }
    status, headers, body = run_curl(token_block, env)
    assert status == 201, body
    env["TOKEN"] = headers["x-subject-token"]

    expected = {
        "Validate": 200,
        "A temporary login command": 200,
        "The enhanced login command": 200,
        "Create a long-term credential": 201,
        "List your": 200,
        "Disable one": 200,
        "Delete it": 204,
        "A temporary credential": 201,
    }
    assert len(operations) == len(expected)
    for block, (title, status_wanted) in zip(operations, expected.items(), strict=True):
        assert block.startswith(f"# {title}")
        status, headers, body = run_curl(block, env)
        assert status == status_wanted, (title, body)
        if title == "Create a long-term credential":
            env["CREDENTIAL_ID"] = json.loads(body)["token_id"]
            assert LongTermCredential.objects.get(public_id=env["CREDENTIAL_ID"]).name == "ci-bot"
        if title == "List your":
            assert [t["name"] for t in json.loads(body)["auth_tokens"]] == ["ci-bot"]
        if title == "Disable one":
            assert not LongTermCredential.objects.get(public_id=env["CREDENTIAL_ID"]).is_enabled
        if title.endswith("login command"):
            assert headers["x-swr-dockerlogin"].startswith("docker login -u cn-north-4@")
        if title == "A temporary credential":
            assert json.loads(body)["user_id"].startswith("cn-north-4@")
    assert not LongTermCredential.objects.exists()


@pytest.mark.django_db(transaction=False)
def test_the_readme_lists_every_test_that_runs_only_on_postgresql() -> None:
    root = README.parent
    readme = README.read_text()
    table = readme.split("| Why only PostgreSQL |")[1].split("\n\n")[0]
    marked = {
        path.relative_to(root).as_posix()
        for path in (root / "tests").rglob("test_*.py")
        if re.search(r"mark\.postgresql\(reason=", path.read_text())
    }
    listed = set(re.findall(r"`(tests/[\w/]+\.py)", table))
    assert marked == listed, "README's table of PostgreSQL-only tests is out of date"
