"""Expiry of long-term credentials: the Validity chosen in the create dialog, the
LONG_TERM_MAX_DAYS cap in every channel, the Expires column and Expired status (cached page
included), the token service refusing from the second of expiry, and the banner.

Time is moved (time-machine), never waited for."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credentials.models import (
    Actor,
    AuditEvent,
    ConsoleError,
    ExpiryRefused,
    LongTermCredential,
    Registry,
    User,
)
from credentials.timestamps import shown, utc_iso
from tests.helpers import NOW, ask, basic, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen(time_machine, settings) -> datetime:
    """The clock stands at NOW until the test moves it; sessions outlive the moves, so one
    client (and its cached pages) is followed across them."""
    time_machine.move_to(NOW, tick=False)
    settings.SESSION_COOKIE_AGE = 400 * 24 * 3600
    return NOW


def make(
    owner: User, registry: Registry, name: str = "ci-bot", **kwargs: object
) -> tuple[LongTermCredential, str]:
    return LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name=name, by=Actor(user=owner), **kwargs
    )


def create_url(registry: Registry) -> str:
    return reverse("create_long_term", args=[registry.public_id])


def tab(client: Client, registry: Registry) -> str:
    response = client.get(reverse("long_term_tab", args=[registry.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def options(page: str) -> list[str]:
    select = page.split('name="validity"')[1].split("</select>")[0]
    return [part.split('"')[0] for part in select.split('<option value="')[1:]]


def selected(page: str) -> str:
    select = page.split('name="validity"')[1].split("</select>")[0]
    return select.split(" selected>")[0].rsplit('<option value="', 1)[1].split('"')[0]


# --- The create dialog ------------------------------------------------------------------


def test_the_dialog_offers_never_the_periods_and_a_date_never_by_default(
    owner_client: Client, registry: Registry, frozen: datetime
) -> None:
    page = owner_client.get(create_url(registry)).content.decode()
    assert "Validity" in page
    assert options(page) == ["never", "30", "90", "180", "365", "date"]
    assert selected(page) == "never"
    assert 'type="date"' in page
    assert 'min="2026-12-01"' in page  # tomorrow, the earliest date allowed


@pytest.mark.parametrize(("validity", "days"), [("30", 30), ("90", 90), ("365", 365)])
def test_a_period_expires_that_many_days_after_creation(
    owner_client: Client, registry: Registry, frozen: datetime, validity: str, days: int
) -> None:
    response = owner_client.post(create_url(registry), {"name": "ci", "validity": validity})
    assert response.status_code == 200
    credential = LongTermCredential.objects.get()
    assert credential.expires_at == NOW + timedelta(days=days)
    header, row = list(csv.reader(io.StringIO(response.content.decode())))
    assert header[5:] == ["Created At", "Expires At"]
    assert row[6] == (NOW + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_date_expires_at_the_start_of_that_day_utc(
    owner_client: Client, registry: Registry, frozen: datetime
) -> None:
    response = owner_client.post(
        create_url(registry), {"name": "ci", "validity": "date", "expires_on": "2027-01-15"}
    )
    assert response.status_code == 200
    assert LongTermCredential.objects.get().expires_at == datetime(2027, 1, 15, tzinfo=UTC)


def test_never_is_stored_as_no_expiry_and_the_csv_cell_is_empty(
    owner_client: Client, registry: Registry
) -> None:
    response = owner_client.post(create_url(registry), {"name": "ci", "validity": "never"})
    assert list(csv.reader(io.StringIO(response.content.decode())))[1][6] == ""
    assert LongTermCredential.objects.get().expires_at is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"validity": "date", "expires_on": "2026-11-30"}, "Choose a date after today."),
        ({"validity": "date", "expires_on": "2020-01-01"}, "Choose a date after today."),
        ({"validity": "date", "expires_on": ""}, "Choose the date on which it expires."),
        ({"validity": "date", "expires_on": "31/12/2026"}, "Enter the date as YYYY-MM-DD."),
        ({"validity": "7"}, "Choose one of the validities offered."),
        ({"validity": "forever"}, "Choose one of the validities offered."),
    ],
)
def test_a_bad_validity_is_refused_with_a_message_and_nothing_is_created(
    owner_client: Client, registry: Registry, frozen: datetime, data: dict, message: str
) -> None:
    response = owner_client.post(
        create_url(registry), {"name": "ci", **data}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not LongTermCredential.objects.exists()


# --- The policy cap, in every channel --------------------------------------------------


def test_with_a_cap_never_disappears_and_the_longest_allowed_is_the_default(
    owner_client: Client, registry: Registry, settings, frozen: datetime
) -> None:
    settings.LONG_TERM_MAX_DAYS = 60
    page = owner_client.get(create_url(registry)).content.decode()
    assert options(page) == ["30", "60", "date"]
    assert selected(page) == "60"
    assert 'max="2027-01-29"' in page
    settings.LONG_TERM_MAX_DAYS = 180
    assert options(owner_client.get(create_url(registry)).content.decode()) == [
        "30",
        "90",
        "180",
        "date",
    ]


def test_the_console_refuses_what_the_cap_does_not_allow(
    owner_client: Client, registry: Registry, settings, frozen: datetime
) -> None:
    settings.LONG_TERM_MAX_DAYS = 60
    for data in (
        {"validity": "never"},
        {"validity": "90"},
        {"validity": "date", "expires_on": "2027-01-30"},
    ):
        response = owner_client.post(create_url(registry), {"name": "ci", **data})
        assert response.status_code == 422, data
        assert not LongTermCredential.objects.exists()
    page = owner_client.post(
        create_url(registry), {"name": "ci", "validity": "date", "expires_on": "2027-01-30"}
    ).content.decode()
    assert "The policy allows 60 days at most: choose 2027-01-29 or earlier." in page
    # The last day allowed, and a script posting no validity at all, get the longest allowed.
    assert (
        owner_client.post(
            create_url(registry), {"name": "ci", "validity": "date", "expires_on": "2027-01-29"}
        ).status_code
        == 200
    )
    assert owner_client.post(create_url(registry), {"name": "ci2"}).status_code == 200
    assert LongTermCredential.objects.get(name="ci2").expires_at == NOW + timedelta(days=60)


def test_create_for_enforces_the_cap_for_every_caller(
    owner: User, registry: Registry, settings, frozen: datetime
) -> None:
    """The console, the admin and any API create through create_for: the cap lives there."""
    settings.LONG_TERM_MAX_DAYS = 30
    with pytest.raises(ExpiryRefused, match="must expire within 30 days"):
        make(owner, registry, expires_at=None)
    with pytest.raises(ExpiryRefused):
        make(owner, registry, expires_at=NOW + timedelta(days=30, seconds=1))
    with pytest.raises(ExpiryRefused, match="in the future"):
        make(owner, registry, expires_at=NOW)
    assert not LongTermCredential.objects.exists()
    assert not AuditEvent.objects.exists()
    credential, _ = make(owner, registry)  # no expiry given: the longest allowed
    assert credential.expires_at == NOW + timedelta(days=30)
    settings.LONG_TERM_MAX_DAYS = None
    assert make(owner, registry, "forever")[0].expires_at is None


def test_the_admin_cannot_create_credentials_nor_change_an_expiry(
    staff_user: User, owner: User, registry: Registry, settings, frozen: datetime
) -> None:
    settings.LONG_TERM_MAX_DAYS = 30
    admin = client_for(staff_user)
    assert admin.get(reverse("admin:credentials_longtermcredential_add")).status_code == 403
    credential, _ = make(owner, registry)
    url = reverse("admin:credentials_longtermcredential_change", args=[credential.pk])
    page = admin.get(url).content.decode()
    assert 'name="expires_at"' not in page  # read-only
    admin.post(url, {"expires_at": "2099-01-01 00:00:00", "name": "renamed"})
    credential.refresh_from_db()
    assert credential.expires_at == NOW + timedelta(days=30)


# --- Expired: the tab, the token service, enable and reset ------------------------------


def test_the_tab_shows_expires_and_never(owner: User, registry: Registry, frozen: datetime) -> None:
    make(owner, registry, "later", expires_at=NOW + timedelta(days=30))
    make(owner, registry, "forever", expires_at=None)
    page = tab(client_for(owner), registry)
    assert '<th scope="col" role="columnheader">Expires</th>' in page
    assert '<time datetime="2026-12-30T09:30:00Z">2026-12-30 09:30 UTC</time>' in page
    assert ">Never</td>" in page
    assert page.count('<span class="status enabled">Enabled</span>') == 2


def test_the_cached_tab_turns_expired_at_the_moment_of_expiry(
    owner: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    # Within the page cache's life (10 minutes), so only its key can make the page change.
    expires_at = NOW + timedelta(minutes=5)
    make(owner, registry, "soon", expires_at=expires_at)
    client = client_for(owner)
    page = tab(client, registry)
    time_machine.move_to(expires_at - timedelta(microseconds=1), tick=False)
    assert tab(client, registry) == page  # the cached page: nothing changed yet
    assert '<span class="status enabled">Enabled</span>' in page
    time_machine.move_to(expires_at, tick=False)
    page = tab(client, registry)
    assert '<span class="status expired">Expired</span>' in page
    assert '<span class="status enabled">' not in page


def test_the_cached_tab_shows_the_banner_from_seven_days_before(
    owner: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    expires_at = NOW + timedelta(days=7, minutes=5)
    make(owner, registry, "soon", expires_at=expires_at)
    client = client_for(owner)
    assert BANNER not in tab(client, registry)
    time_machine.move_to(expires_at - timedelta(days=7), tick=False)
    assert BANNER in tab(client, registry)


def test_the_token_service_refuses_a_credential_from_the_second_it_expires(
    client: Client, owner: User, registry: Registry, token_keys, frozen: datetime, time_machine
) -> None:
    expires_at = NOW + timedelta(days=1)
    credential, password = make(owner, registry, expires_at=expires_at)
    auth = basic(credential.username, password)
    time_machine.move_to(expires_at - timedelta(microseconds=1), tick=False)
    assert ask(client, auth, registry.address).status_code == 200
    time_machine.move_to(expires_at, tick=False)
    assert ask(client, auth, registry.address).status_code == 401
    time_machine.move_to(expires_at + timedelta(seconds=1), tick=False)
    assert ask(client, auth, registry.address).status_code == 401
    refused = AuditEvent.objects.filter(action=AuditEvent.Action.REGISTRY_LOGIN_FAILED)
    assert refused.count() == 2
    assert refused.first().credential_username == credential.username


def test_an_expired_credential_cannot_be_enabled_again(
    owner: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    credential, _ = make(owner, registry, expires_at=NOW + timedelta(days=1))
    credential.disable(by=Actor(user=owner))
    client = client_for(owner)
    time_machine.move_to(NOW + timedelta(days=2), tick=False)
    url = reverse("enable_long_term", args=[registry.public_id, credential.public_id])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "has expired" in response.content.decode()
    assert ">Enable</button>" not in response.content.decode()
    response = client.post(url, follow=True)
    assert "has expired" in response.content.decode()
    credential.refresh_from_db()
    assert not credential.is_enabled
    with pytest.raises(ConsoleError):
        credential.enable(by=Actor(user=owner))
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LONG_TERM_ENABLED).exists()


def test_an_expired_row_offers_only_delete(
    owner: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    make(owner, registry, expires_at=NOW + timedelta(hours=1))
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    row = tab(client_for(owner), registry).split('data-credential="ci-bot"')[1].split("</tr>")[0]
    assert ">Delete</a>" in row
    for operation in (">Enable</button>", ">Disable</button>", "Reset Password"):
        assert operation not in row


# --- The banner ---------------------------------------------------------------------------


BANNER = 'class="expiry-banner"'


def test_the_banner_shows_while_a_credential_expires_within_7_days(
    owner: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    make(owner, registry, "soon", expires_at=NOW + timedelta(days=10))
    home = reverse("home")
    client = client_for(owner)
    assert BANNER not in client.get(home, follow=True).content.decode()
    assert BANNER not in tab(client, registry)
    time_machine.move_to(NOW + timedelta(days=3), tick=False)  # 7 days left
    for page in (client.get(home, follow=True).content.decode(), tab(client, registry)):
        assert BANNER in page
        banner = page.split(BANNER)[1].split("</aside>")[0]
        assert "soon" in banner
        expiry = NOW + timedelta(days=10)  # in the one format, with its machine-readable twin
        assert f'expires <time datetime="{utc_iso(expiry)}">{shown(expiry)}</time>' in banner
    time_machine.move_to(NOW + timedelta(days=10), tick=False)  # expired: no more warning
    assert BANNER not in tab(client, registry)
    assert BANNER not in client.get(home, follow=True).content.decode()


def test_the_banner_ignores_disabled_credentials_and_other_users(
    owner: User, other_user: User, registry: Registry, frozen: datetime
) -> None:
    credential, _ = make(owner, registry, "soon", expires_at=NOW + timedelta(days=2))
    make(other_user, registry, "bobs", expires_at=NOW + timedelta(days=2))
    assert BANNER in tab(client_for(owner), registry)
    credential.disable(by=Actor(user=owner))
    assert BANNER not in tab(client_for(owner), registry)
    page = tab(client_for(other_user), registry)
    assert "bobs" in page.split(BANNER)[1]
    assert "soon" not in page.split(BANNER)[1]


def test_a_page_after_the_first_costs_no_query_for_the_banner(
    owner: User, registry: Registry, frozen: datetime, django_assert_num_queries
) -> None:
    make(owner, registry, "later", expires_at=NOW + timedelta(days=60))
    owner.refresh_from_db()
    assert owner.credentials_clock(NOW) == (NOW + timedelta(days=53), False)
    owner.refresh_from_db()  # worked out once, stored
    with django_assert_num_queries(0):
        assert owner.credentials_clock(NOW + timedelta(days=1)) == (
            NOW + timedelta(days=53),
            False,
        )


def test_expiry_date_field_accepts_the_last_allowed_day(settings, frozen: datetime) -> None:
    from credentials.console.forms import CreateLongTermCredentialForm

    settings.LONG_TERM_MAX_DAYS = 1
    form = CreateLongTermCredentialForm(
        {"name": "x", "validity": "date", "expires_on": "2026-12-01"}
    )
    assert form.is_valid(), form.errors
    assert form.expires_at(NOW) == datetime.combine(date(2026, 12, 1), datetime.min.time(), UTC)
    assert timezone.is_aware(form.expires_at(NOW))
