"""The catalogs are complete: every template string is marked for translation, and every
marked string has a zh-hans translation that is neither missing nor fuzzy."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.template.base import Lexer, TokenType

pytestmark = pytest.mark.database_independent(reason="reads the catalogs and templates")

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
# Attributes a person reads or hears; data-*-label ones feed the script's words.
READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "data-label"}
# Inside these, text is code, a command or markup, not prose.
NOT_PROSE = {"code", "pre", "script", "style"}
PLACEHOLDER = "\x00"


class _Prose(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # inside NOT_PROSE elements
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in NOT_PROSE:
            self.depth += 1
        kinds = dict(attrs)
        for name, value in attrs:
            readable = name in READ_ATTRIBUTES or (name.startswith("data-") and "label" in name)
            if name == "value" and kinds.get("type") in ("submit", "button", "reset"):
                readable = True
            if readable and value:
                self.found.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in NOT_PROSE and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.found.append(data)


def unmarked_strings(source: str) -> list[str]:
    """Words in a template that reach the page without passing through a translation tag."""
    parts: list[str] = []
    skip_until = ""
    for token in Lexer(source).tokenize():
        content = token.contents.strip()
        if skip_until:
            if token.token_type == TokenType.BLOCK and content.split()[0] == skip_until:
                skip_until = ""
                parts.append(PLACEHOLDER)
            continue
        if token.token_type == TokenType.BLOCK:
            word = content.split()[0]
            if word in ("blocktranslate", "blocktrans"):
                skip_until = "end" + word
            elif word == "comment":
                skip_until = "endcomment"
            parts.append(PLACEHOLDER)
        elif token.token_type == TokenType.TEXT:
            parts.append(token.contents)
        else:
            parts.append(PLACEHOLDER)
    parser = _Prose()
    parser.feed("".join(parts))
    parser.close()
    texts = (text.replace(PLACEHOLDER, " ").strip() for text in parser.found)
    return [text for text in texts if re.search(r"[A-Za-z]", text)]


def test_the_checker_finds_an_unmarked_string() -> None:
    source = (
        '{% load i18n %}<p>{% translate "Fine" %} <code>docker login</code></p>'
        "{% blocktranslate %}Also fine {{ x }}{% endblocktranslate %}"
        '<button aria-label="Close it">×</button><h1>Forgotten</h1>'
        '<input type="submit" value="{% translate "OK" %}">{{ value }}'
    )
    assert unmarked_strings(source) == ["Close it", "Forgotten"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_template_string_is_marked_for_translation(template: Path) -> None:
    assert unmarked_strings(template.read_text(encoding="utf-8")) == []


def test_the_catalog_is_well_formed() -> None:
    msgfmt = shutil.which("msgfmt")
    if not msgfmt:
        pytest.fail("msgfmt (GNU gettext) is needed; scripts/system-deps.sh installs it.")
    result = subprocess.run(
        [msgfmt, "--check", "--output-file=/dev/null", str(CATALOG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_marked_string_has_a_chinese_translation(tmp_path: Path) -> None:
    """Extract the strings afresh (makemessages, in a copy of the project) and merge them
    into the committed catalog: a new string is then empty, a changed one fuzzy."""
    if not shutil.which("xgettext"):
        pytest.fail("xgettext (GNU gettext) is needed; scripts/system-deps.sh installs it.")
    for folder in ("credentials", "swrconsole", "templates", "locale"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(ROOT / "manage.py", tmp_path)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    with (tmp_path / CATALOG.relative_to(ROOT)).open("rb") as handle:
        catalog = read_po(handle)
    assert len(catalog) > 100
    untranslated, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        elif message.fuzzy:
            fuzzy.append(message.id)
    assert untranslated == [], "run `make messages` and translate these"
    assert fuzzy == [], "check these translations and remove their fuzzy flags"


def test_compiling_leaves_fuzzy_entries_out_and_follows_the_po(tmp_path: Path) -> None:
    from swrconsole.translations import compile_all

    folder = tmp_path / "zh_Hans" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Copy"\nmsgstr "复制"\n\n#, fuzzy\nmsgid "Delete"\nmsgstr "删掉"\n',
        encoding="utf-8",
    )
    assert compile_all(locale_dir=tmp_path) == [po]
    assert compile_all(locale_dir=tmp_path) == []  # up to date: nothing to do
    with (folder / "django.mo").open("rb") as handle:
        import gettext

        translations = gettext.GNUTranslations(handle)
    assert translations.gettext("Copy") == "复制"
    assert translations.gettext("Delete") == "Delete"  # a guess is not shown
