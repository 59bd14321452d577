"""Every path the project's docs, README and code comments name exists in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A path of the repository as prose names it: a top-level folder, then a file with its ending
# (or a folder, with a trailing slash). Template names (credentials/home.html) count too.
PATH = re.compile(
    r"(?<![\w./-])((?:credentials|swrconsole|tests|docs|bench|scripts|templates|static|locale|deploy)"
    r"/[\w./-]*?(?:\.(?:py|md|html|txt|sh|js|css|ya?ml|json|po|toml)\b|/))"
)
# What a text may name that is made at run time, not kept in the repository.
MADE_AT_RUN_TIME = (
    "tests/browser/node_modules/",
    "bench/results/",  # the benchmarks' output
    "templates/configmap.yaml",  # inside the Helm chart a registry test builds
)


def _texts() -> list[Path]:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        ROOT / name
        for name in tracked
        if name.endswith((".md", ".py", ".html", ".sh", ".js", ".css", ".yml", ".toml"))
        or name in ("Makefile", "Dockerfile")
        if not name.startswith("credentials/migrations/")
    ]


def _cited(text: str) -> set[str]:
    return {match.rstrip(".") for match in PATH.findall(text)}


def test_every_path_the_docs_and_the_code_name_exists() -> None:
    missing = []
    for path in _texts():
        if not path.exists() or path == Path(__file__).resolve():
            continue  # deleted in the work tree; or this file, which names a missing one
        for cited in sorted(_cited(path.read_text(errors="replace"))):
            if cited.startswith(MADE_AT_RUN_TIME):
                continue
            if not (ROOT / cited).exists() and not (ROOT / "templates" / cited).exists():
                missing.append(f"{path.relative_to(ROOT)} names {cited}")
    assert not missing, "\n".join(missing)


def test_the_check_finds_a_path_that_does_not_exist() -> None:
    assert _cited("see tests/test_timestamps.py and docs/HUAWEI-API.md.") == {
        "tests/test_timestamps.py",
        "docs/HUAWEI-API.md",
    }
    assert not (ROOT / "tests/test_timestamps.py").exists()
