"""The admin reads in Chinese: with zh-hans chosen, every label the credentials app gives the
admin (its name, its models' names, list columns, filter titles, field labels and fieldset
titles) is translated. Data (usernames, addresses, "API") is not a label and is not checked."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from credentials.models import (
    AccessKey,
    AuditEvent,
    LongTermCredential,
    Organization,
    Permission,
    RefreshToken,
    Region,
    Registry,
    TemporaryCredential,
    User,
)
from credentials.rules import EDIT
from tests.helpers import client_for, make_credential, mint_temporary, new_access_key, permit

pytestmark = pytest.mark.django_db

CJK = re.compile("[\u4e00-\u9fff]")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        parts = (child if isinstance(child, str) else child.text() for child in self.children)
        return " ".join("".join(parts).split())

    def find(self, tag: str, **attrs: str) -> list[Node]:
        """Descendants of this tag whose attributes contain these words (class="a b" has a)."""
        found = []
        for child in self.children:
            if isinstance(child, str):
                continue
            if child.tag == tag and all(
                word in (child.attrs.get(name.rstrip("_")) or "").split()
                for name, word in attrs.items()
            ):
                found.append(child)
            found += child.find(tag, **attrs)
        return found

    def first(self, tag: str, **attrs: str) -> Node:
        found = self.find(tag, **attrs)
        assert found, f"no <{tag} {attrs}> on the page"
        return found[0]


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("document", {}, None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag: str) -> None:
        node = self.current
        while node.parent is not None and node.tag != tag:
            node = node.parent
        if node.parent is not None:  # an end tag with no start is ignored
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Node:
    tree = _Tree()
    tree.feed(html)
    tree.close()
    return tree.root


def breadcrumbs(page: Node) -> list[str]:
    """The links of the trail: home, the app, the model's list (the object's name is data)."""
    return [link.text() for link in page.first("div", class_="breadcrumbs").find("a")]


def index_labels(page: Node) -> list[str]:
    module = page.first("div", class_="app-credentials")
    names = [module.first("caption").text()]
    names += [row.text() for row in module.find("th", scope="row")]
    return [f"model name: {name}" for name in names]


def changelist_labels(page: Node) -> list[str]:
    labels = [f"breadcrumb: {text}" for text in breadcrumbs(page)]
    trail = page.first("div", class_="breadcrumbs").text()
    labels.append(f"breadcrumb: {trail.split('›')[-1].strip()}")  # the list's own name
    for header in page.first("table", id="result_list").find("th", scope="col"):
        text = header.first("div", class_="text").text()
        if text:  # the select-all checkbox's column has no words, only Django's aria-label
            labels.append(f"column: {text}")
    for section in page.find("details"):
        if "data-filter-title" in section.attrs:
            labels.append(f"filter: {section.attrs['data-filter-title']}")
    return labels


def change_page_labels(page: Node) -> list[str]:
    labels = [f"breadcrumb: {text}" for text in breadcrumbs(page)]
    form = page.first("div", id="content-main")
    labels += [
        f"fieldset: {heading.text()}" for heading in form.find("h2", class_="fieldset-heading")
    ]
    labels += [f"label: {label.text()}" for label in form.find("label") if label.text()]
    return labels


def english(labels: list[str]) -> list[str]:
    return [label for label in labels if not CJK.search(label.split(": ", 1)[1])]


@pytest.fixture
def one_of_each(owner: User, registry: Registry) -> dict[type[Model], Model]:
    """A row of every model the credentials app shows in the admin."""
    credential = make_credential(owner, registry, "ci")
    temporary, _ = mint_temporary(owner, registry)
    key, _ = new_access_key(owner)
    RefreshToken.objects.issue(service=registry.address, long_term_id=credential.pk)
    organization = permit(registry, "team-a", EDIT, user=owner)
    return {
        LongTermCredential: credential,
        AuditEvent: AuditEvent.objects.filter(credential_public_id=credential.public_id).get(),
        TemporaryCredential: temporary,
        RefreshToken: RefreshToken.objects.get(),
        AccessKey: key,
        User: owner,
        Region: registry.region,
        Registry: registry,
        Organization: organization,
        Permission: organization.permissions.get(),
    }


def chinese_client(user: User) -> Client:
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def page_of(client: Client, url: str) -> Node:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Language"] == "zh-hans", url
    return parse(response.content.decode())


def test_the_credentials_admin_reads_in_chinese(
    staff_user: User, one_of_each: dict[type[Model], Model]
) -> None:
    client = chinese_client(staff_user)
    models = [model for model in admin.site._registry if model._meta.app_label == "credentials"]
    assert set(models) == set(one_of_each), "give the fixture a row of every admin model"

    offenders = {
        "index": english(index_labels(page_of(client, reverse("admin:index")))),
        "app index": english(
            index_labels(page_of(client, reverse("admin:app_list", args=["credentials"])))
        ),
    }
    for model in models:
        name = model._meta.model_name
        changelist = page_of(client, reverse(f"admin:credentials_{name}_changelist"))
        offenders[f"{name} list"] = english(changelist_labels(changelist))
        url = reverse(f"admin:credentials_{name}_change", args=[one_of_each[model].pk])
        offenders[f"{name} page"] = english(change_page_labels(page_of(client, url)))

    offenders = {page: labels for page, labels in offenders.items() if labels}
    assert not offenders, "English labels on Chinese admin pages:\n" + "\n".join(
        f"{page}: {', '.join(labels)}" for page, labels in offenders.items()
    )


def test_events_and_refresh_tokens_are_named_in_the_pages_language(
    staff_user: User, one_of_each: dict[type[Model], Model]
) -> None:
    """Their names head their admin pages: prose, unlike the other models' (names, hosts)."""
    client = chinese_client(staff_user)
    for model in (AuditEvent, RefreshToken):
        name = model._meta.model_name
        url = reverse(f"admin:credentials_{name}_change", args=[one_of_each[model].pk])
        heading = page_of(client, url).first("div", id="content").first("h2").text()
        assert CJK.search(heading), heading
        assert " by " not in heading
        assert "refresh token" not in heading
    with translation.override("en"):
        assert str(one_of_each[AuditEvent]) == "Long-term credential created by alice"
        assert str(one_of_each[RefreshToken]).startswith(
            "refresh token for swr.cn-north-4.myhuaweicloud.com, until "
        )


def test_exports_keep_an_english_file_name_in_chinese(
    staff_user: User, one_of_each: dict[type[Model], Model]
) -> None:
    """The model's Chinese name would have Django MIME-encode the header (=?utf-8?b?…?=),
    which browsers do not read as a file name."""
    client = chinese_client(staff_user)
    for name, stem in (
        ("longtermcredential", "long-term-credentials"),
        ("auditevent", "audit-events"),
    ):
        response = client.get(reverse(f"admin:credentials_{name}_export"))
        assert response.status_code == 200
        assert re.fullmatch(
            rf'attachment; filename="{stem}-\d{{8}}T\d{{6}}Z\.csv"', response["Content-Disposition"]
        )


def test_the_checker_finds_english_labels() -> None:
    html = (
        '<div class="breadcrumbs"><a href="/admin/">首页</a> › <a href="/x/">Access</a> › 区域</div>'
        '<table id="result_list"><thead><tr><th scope="col"><div class="text"><span>'
        '<input type="checkbox"></span></div></th><th scope="col"><div class="sortoptions">'
        '<a href="?o=">1</a></div><div class="text"><a href="?o=1">Name</a></div></th>'
        '<th scope="col"><div class="text">名称</div></th></tr></thead></table>'
        '<nav id="changelist-filter"><details data-filter-title="owner"><summary>以 owner</summary>'
        "</details></nav>"
    )
    assert english(changelist_labels(parse(html))) == [
        "breadcrumb: Access",
        "column: Name",
        "filter: owner",
    ]
