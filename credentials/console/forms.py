from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from credentials.models import DEFAULT_EXPIRY, Organization
from credentials.models.expiry import DefaultExpiry
from credentials.rules import (
    ACCESS_INHERIT,
    NAME_MAX_LENGTH,
    ORGANIZATION_NAME_MAX_LENGTH,
    REPOSITORY_NAME_MAX_LENGTH,
    VALIDITY_DAYS,
    access_choices,
    name_problem,
    organization_name_problem,
)


def validate_credential_name(value: str) -> None:
    """SWR's rule (credentials.rules), its message naming the piece that failed."""
    problem = name_problem(value)
    if problem is not None:
        raise forms.ValidationError(problem)


class CreateLongTermCredentialForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Credential Name"),
        strip=False,
        max_length=None,
        error_messages={"required": gettext_lazy("Enter a name for the credential.")},
        validators=[validate_credential_name],
        help_text=format_lazy(
            gettext_lazy(
                "1–{limit} characters: lowercase letters, digits, and “.”, “_” or “-” between them."
            ),
            limit=NAME_MAX_LENGTH,
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "maxlength": NAME_MAX_LENGTH}
        ),
    )

    validity = forms.ChoiceField(
        label=_("Validity"),
        required=False,  # left out (a script posting only a name): the default validity
        error_messages={"invalid_choice": _("Choose one of the validities offered.")},
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        help_text=_("With “On a date”: the credential stops working at 00:00 UTC that day."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the date as YYYY-MM-DD.")},
    )

    # What the credential may do: its owner's permissions, or at most pull with them
    # (credentials/models/limits.py); left out, the owner's.
    access = forms.ChoiceField(
        label=_("Access"),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the accesses offered.")},
    )
    scope = forms.ChoiceField(
        label=_("Organizations"),
        required=False,
        widget=forms.RadioSelect,
        choices=[
            ("all", _("All organizations")),
            ("chosen", _("Only the organizations I choose")),
        ],
        error_messages={"invalid_choice": _("Choose All or the organizations you want.")},
    )
    organizations = forms.ModelMultipleChoiceField(
        label=_("Organizations"),
        queryset=Organization.objects.none(),
        to_field_name="name",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("Choose organizations from the list."),
            "invalid_pk_value": _("Choose organizations from the list."),
        },
    )

    def __init__(self, *args: Any, organizations: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        access = self.fields["access"]
        access.choices = access_choices()  # type: ignore[attr-defined]
        access.initial = ACCESS_INHERIT
        self.fields["scope"].initial = "all"
        if organizations is not None:  # those of the registry where the owner holds one
            self.fields["organizations"].queryset = organizations  # type: ignore[attr-defined]
        self.max_days: int | None = settings.LONG_TERM_MAX_DAYS
        days = [day for day in VALIDITY_DAYS if not self.max_days or day <= self.max_days]
        if self.max_days and self.max_days not in days:
            days.append(self.max_days)
        choices = [] if self.max_days else [("never", pgettext_lazy("expiry", "Never"))]
        choices += [(str(day), _days(day)) for day in days]
        choices.append(("date", _("On a date")))
        validity = self.fields["validity"]
        validity.choices = choices  # type: ignore[attr-defined]
        # The longest allowed when the policy caps it; otherwise Never, as before expiry existed.
        validity.initial = str(self.max_days) if self.max_days else "never"
        today = timezone.now().date()
        attrs = self.fields["expires_on"].widget.attrs
        attrs["min"] = (today + timedelta(days=1)).isoformat()
        if self.max_days:
            attrs["max"] = self.latest_date(today).isoformat()

    def latest_date(self, today: date) -> date:
        assert self.max_days
        return today + timedelta(days=self.max_days)

    def clean_name(self) -> str:
        # A name with surrounding spaces is not silently trimmed into a different name.
        name = self.cleaned_data["name"]
        if name != name.strip():
            raise forms.ValidationError(gettext("The name cannot contain spaces."))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = data.get("scope") == "chosen"
        if chosen and not data.get("organizations") and "organizations" not in self.errors:
            self.add_error("organizations", _("Choose at least one organization, or choose All."))
        if data.get("validity") != "date":
            return data
        expires_on = data.get("expires_on")
        today = timezone.now().date()
        if expires_on is None:
            if "expires_on" not in self.errors:
                self.add_error("expires_on", _("Choose the date on which it expires."))
        elif expires_on <= today:
            self.add_error("expires_on", _("Choose a date after today."))
        elif self.max_days and expires_on > self.latest_date(today):
            self.add_error(
                "expires_on",
                _("The policy allows %(days)s at most: choose %(date)s or earlier.")
                % {"days": _days(self.max_days), "date": self.latest_date(today).isoformat()},
            )
        return data

    def narrowing(self) -> dict[str, Any]:
        """The chosen access and organizations for LongTermCredential.objects.create_for."""
        chosen = self.cleaned_data.get("scope") == "chosen"
        return {
            "access": self.cleaned_data.get("access") or ACCESS_INHERIT,
            "organizations": list(self.cleaned_data.get("organizations") or ()) if chosen else [],
        }

    def expires_at(self, now: datetime) -> datetime | DefaultExpiry | None:
        """The chosen expiry (None: Never) for LongTermCredential.objects.create_for."""
        validity = self.cleaned_data.get("validity")
        if not validity:
            return DEFAULT_EXPIRY
        if validity == "never":
            return None
        if validity == "date":
            return datetime.combine(self.cleaned_data["expires_on"], time.min, tzinfo=UTC)
        return now + timedelta(days=int(validity))


def _days(days: int) -> str:
    return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}


class GenerateTemporaryCredentialForm(forms.Form):
    # "Image" and "Chart" as Huawei's Chinese console says them: 镜像 and Chart.
    KIND_CHOICES = [("image", gettext_lazy("Image")), ("chart", gettext_lazy("Chart"))]
    kind = forms.ChoiceField(choices=KIND_CHOICES, initial="image", widget=forms.RadioSelect)


# --- Organizations and their permissions ------------------------------------------------------


def validate_organization_name(value: str) -> None:
    """SWR's organization name rule (credentials.rules), its message naming what failed."""
    problem = organization_name_problem(value)
    if problem is not None:
        raise forms.ValidationError(problem)


class CreateOrganizationForm(forms.Form):
    name = forms.CharField(
        label=_("Organization Name"),
        strip=False,
        max_length=None,
        error_messages={"required": _("Enter an organization name.")},
        validators=[validate_organization_name],
        help_text=format_lazy(
            gettext_lazy(
                "1–{limit} characters. Starts with a lowercase letter and ends with a letter or "
                "digit; lowercase letters, digits, “.”, “_” (at most two in a row) and “-”, "
                "never two separators next to one another."
            ),
            limit=ORGANIZATION_NAME_MAX_LENGTH,
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "maxlength": ORGANIZATION_NAME_MAX_LENGTH}
        ),
    )


GRANTEE_KINDS = [("user", gettext_lazy("User")), ("group", gettext_lazy("Group"))]


class PermissionForm(forms.Form):
    """Who (a user or a group, by name), where (the organization, or one repository in it)
    and the level. The level is passed on as sent: the domain refuses anything but 1, 3 or 7
    with its own message (LevelRefused), as it refuses an unknown grantee or repository
    (GranteeRefused, NameRefused)."""

    kind = forms.ChoiceField(
        label=_("Grant to"),
        choices=GRANTEE_KINDS,
        initial="user",
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose User or Group."),
            "invalid_choice": _("Choose User or Group."),
        },
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=150,
        error_messages={
            "required": _("Enter the name of a user or a group."),
            "max_length": _("A user or group name has at most %(limit_value)d characters."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    repository = forms.CharField(
        label=_("Repository"),
        required=False,
        strip=False,
        max_length=REPOSITORY_NAME_MAX_LENGTH,
        error_messages={
            "max_length": _("A repository name has at most %(limit_value)d characters."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    level = forms.CharField(
        label=_("Permission"),
        error_messages={"required": _("Choose Read, Edit or Manage.")},
    )
