from __future__ import annotations

import re

from django import forms

from credentials.models import NAME_MAX_LENGTH


def validate_credential_name(value: str) -> None:
    """SWR's rule, checked piece by piece so the message names the rule that failed."""
    if len(value) > NAME_MAX_LENGTH:
        raise forms.ValidationError(
            f"The name can be at most {NAME_MAX_LENGTH} characters long (it has {len(value)})."
        )
    if not value.isascii() or re.search(r"[^a-z0-9._-]", value):
        raise forms.ValidationError(
            f"{_what_is_not_allowed(value)} Use only lowercase letters (a–z), digits (0–9), "
            "and the separators “.”, “_” and “-”."
        )
    if value[0] in "._-" or value[-1] in "._-":
        raise forms.ValidationError("The name must start and end with a lowercase letter or digit.")
    if re.search(r"[._-]{2}", value):
        raise forms.ValidationError(
            "Separators (“.”, “_”, “-”) cannot follow one another; put a letter or digit "
            "between them."
        )


def _what_is_not_allowed(value: str) -> str:
    if any(char.isupper() for char in value):
        return "The name contains uppercase letters."
    if any(char.isspace() for char in value):
        return "The name contains spaces."
    others = dict.fromkeys(char for char in value if not re.fullmatch(r"[a-z0-9._-]", char))
    return "The name contains " + ", ".join(f"“{char}”" for char in others) + "."


class CreateLongTermCredentialForm(forms.Form):
    name = forms.CharField(
        label="Credential Name",
        strip=False,
        max_length=None,
        error_messages={"required": "Enter a name for the credential."},
        validators=[validate_credential_name],
        help_text="1–64 characters: lowercase letters, digits, and “.”, “_” or “-” between them.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )

    def clean_name(self) -> str:
        # A name with surrounding spaces is not silently trimmed into a different name.
        name = self.cleaned_data["name"]
        if name != name.strip():
            raise forms.ValidationError("The name cannot contain spaces.")
        return name


class GenerateTemporaryCredentialForm(forms.Form):
    KIND_CHOICES = [("image", "Image"), ("chart", "Chart")]
    kind = forms.ChoiceField(choices=KIND_CHOICES, initial="image", widget=forms.RadioSelect)


class AdminReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the audit trail with each credential.",
    )
