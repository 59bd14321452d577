"""The benchmarks' seed command fills every column of what it copies (it failed when audit
events gained their channel column, which it did not name); its --help describes each option,
and the README's defaults and smaller set are the command's."""

from __future__ import annotations

import argparse
import io
import re
import shlex
from pathlib import Path

from django.core.management import call_command

from credentials.management.commands.seed_demo_data import Command
from credentials.models import AuditEvent, LongTermCredential, Organization, Permission, User


def test_it_seeds_credentials_and_events_with_every_column(db: None) -> None:
    call_command(
        "seed_demo_data", users=3, credentials=20, events=30, bench_credentials=5,
        stdout=io.StringIO(),
    )  # fmt: skip
    assert LongTermCredential.objects.count() == 20
    assert AuditEvent.objects.count() == 30
    assert set(AuditEvent.objects.values_list("channel", flat=True)) == {"console"}


def test_it_seeds_organizations_and_grants_to_users_and_groups(db: None) -> None:
    call_command(
        "seed_demo_data", users=30, credentials=0, events=0, bench_credentials=0,
        organizations=12, grants=200, stdout=io.StringIO(),
    )  # fmt: skip
    assert Organization.objects.count() == 12
    assert Permission.objects.count() == 200
    assert Permission.objects.filter(group__isnull=False).exists()
    assert Permission.objects.exclude(repository="").exists()
    assert set(Permission.objects.values_list("level", flat=True)) == {1, 3, 7}
    assert User.objects.get(username="bench").groups.count() == 2  # each seeded user joins two


README = Path(__file__).resolve().parent.parent / "README.md"


def own_options() -> list[argparse.Action]:
    parser = Command().create_parser("manage.py", "seed_demo_data")
    return [a for a in parser._actions if a.dest in OPTIONS]


OPTIONS = (
    "users", "credentials", "events", "bench_user", "bench_credentials", "organizations",
    "grants", "seed",
)  # fmt: skip


def test_its_help_describes_the_command_and_every_option() -> None:
    parser = Command().create_parser("manage.py", "seed_demo_data")
    text = " ".join(parser.format_help().split())
    assert "Fill the database with realistic volume" in text
    assert len(own_options()) == len(OPTIONS)
    for action in own_options():
        assert action.help, f"{action.option_strings[0]} has no description"
        described = " ".join((action.help % {"default": action.default}).split())
        assert (
            f"{action.option_strings[0]} {action.metavar or action.dest.upper()} {described}"
            in text
        )


def test_the_readme_states_its_defaults() -> None:
    readme = " ".join(README.read_text().split())
    defaults = {action.dest: action.default for action in own_options()}
    assert (
        f"{defaults['users']:,} users, {defaults['credentials']:,} long-term credentials "
        f"({defaults['bench_credentials']:,} of them the user `{defaults['bench_user']}`'s)"
    ) in readme
    assert f"{defaults['events']:,} audit events" in readme
    assert (
        f"{defaults['organizations']:,} organizations with {defaults['grants']:,} permission grants"
    ) in readme


def test_the_readmes_smaller_set_runs_as_written(db: None) -> None:
    (line,) = re.findall(
        r"^\.venv/bin/python manage\.py seed_demo_data --.*$", README.read_text(), re.M
    )
    arguments = shlex.split(line)[3:]
    call_command("seed_demo_data", *arguments, stdout=io.StringIO())
    wanted = dict(zip(arguments[::2], arguments[1::2], strict=True))
    assert User.objects.count() == int(wanted["--users"]) + 1  # and the administrator
    assert LongTermCredential.objects.count() == int(wanted["--credentials"])
    assert AuditEvent.objects.count() == int(wanted["--events"])
    bench = User.objects.get(username="bench")
    assert bench.long_term_credentials.count() == int(wanted["--bench-credentials"])
    assert Organization.objects.count() == int(wanted["--organizations"])
    assert Permission.objects.count() == int(wanted["--grants"])
