"""The e-mails the credential lifecycle sends its owners: reminders of expiry, and notice that
an unused credential was disabled. Composing and sending only; who gets one, and when, is
credentials/lifecycle/schedule.py's business."""

from __future__ import annotations

import functools
import logging
import smtplib
from collections.abc import Callable, Hashable, Sequence
from typing import Concatenate, ParamSpec, TypeVar

from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credentials import metrics
from credentials.models import LongTermCredential, Registry
from credentials.timestamps import shown

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
P = ParamSpec("P")


def tab_url(registry: Registry) -> str:
    """The long-term tab of `registry`, absolute (CONSOLE_URL): e-mails have no request."""
    path = reverse("long_term_tab", kwargs={"registry_id": registry.public_id})
    return f"{settings.CONSOLE_URL}{path}"


def _email(
    credential: LongTermCredential, subject: str, template: str, **extra: object
) -> mail.EmailMessage:
    """One e-mail to `credential`'s owner: every notice names the credential, its registry and
    the tab to act in; `extra` is what the one template adds. The subject, translated, is
    filled in here with %(name)s, %(registry)s and any of `extra`."""
    registry = credential.registry
    subject %= {"name": credential.name, "registry": registry.address, **extra}
    context = {
        "credential": credential,
        "registry": registry,
        "tab_url": tab_url(registry),
        "owner": credential.owner,
        **extra,
    }
    body = render_to_string(template, context)
    return mail.EmailMessage(subject, body, to=[credential.owner.email])


def in_owners_language(
    build: Callable[Concatenate[LongTermCredential, P], mail.EmailMessage],
) -> Callable[Concatenate[LongTermCredential, P], mail.EmailMessage]:
    """Builds the notice (subject and body) in the language its owner last used the console
    in (User.language), else LANGUAGE_CODE: the sender runs with no request to say."""

    @functools.wraps(build)
    def built(
        credential: LongTermCredential, *args: P.args, **kwargs: P.kwargs
    ) -> mail.EmailMessage:
        with translation.override(credential.owner.language or settings.LANGUAGE_CODE):
            return build(credential, *args, **kwargs)

    return built


@in_owners_language
def expiry_reminder(credential: LongTermCredential, days: int | None) -> mail.EmailMessage:
    """The reminder `days` before expiry (None: the credential has just expired)."""
    expires_at = credential.expires_at
    assert expires_at is not None
    if days is None:
        subject = _("Your long-term credential “%(name)s” for %(registry)s has expired")
    else:
        subject = ngettext(
            "Your long-term credential “%(name)s” for %(registry)s expires in %(days)d day",
            "Your long-term credential “%(name)s” for %(registry)s expires in %(days)d days",
            days,
        )
    template = "credentials/email/expiry_reminder.txt"
    return _email(credential, subject, template, days=days, expires_at=shown(expires_at))


@in_owners_language
def disabled_unused(credential: LongTermCredential, days: int) -> mail.EmailMessage:
    """Notice that the policy disabled `credential`, unused for `days` days."""
    subject = ngettext(
        "Your long-term credential “%(name)s” for %(registry)s was disabled: unused for "
        "%(days)d day",
        "Your long-term credential “%(name)s” for %(registry)s was disabled: unused for "
        "%(days)d days",
        days,
    )
    last_used_at = shown(credential.last_used_at) if credential.last_used_at else ""
    template = "credentials/email/disabled_unused.txt"
    return _email(credential, subject, template, days=days, last_used_at=last_used_at)


def send_each(messages: Sequence[tuple[K, mail.EmailMessage]]) -> list[K]:
    """Send over one connection; return the keys of the messages the server refused.

    Fails as a whole (raises) only when no connection can be opened, so the caller can undo
    what it recorded. A message that fails on its own (refused by the server, or one that
    cannot be composed, such as a header holding a line break from old data) is logged, by its
    key and the kind of failure only (no address, no header), and its key returned; the
    others still go.
    """
    if not messages:
        return []
    connection = mail.get_connection(fail_silently=False)
    try:
        connection.open()
    except BaseException:
        metrics.reminder_mail("failed", len(messages))
        raise
    failed: list[K] = []
    try:
        for key, message in messages:
            message.connection = connection
            try:
                message.send()
                metrics.reminder_mail("sent")
            except (smtplib.SMTPException, OSError, ValueError) as exc:  # BadHeaderError too
                metrics.reminder_mail("failed")
                logger.warning(
                    "e-mail to a credential owner not sent: %s (credential %s)",
                    type(exc).__name__,
                    key,
                )
                failed.append(key)
    finally:
        connection.close()
    return failed
