"""Compile the translation catalogs (locale/*/LC_MESSAGES/*.po) into the .mo files Django reads.

Pure Python (Babel), so `make run` works on a machine without GNU gettext, and without
Django's settings (`python -m swrconsole.translations`, as the Makefile runs it). The .mo files
are build artefacts, never committed; a catalog is compiled again only when its .po is
newer. Extracting strings (`make messages`) needs gettext; tests/test_translations.py checks
the catalogs with msgfmt.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalogs(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    return sorted(locale_dir.glob("*/LC_MESSAGES/*.po"))


def compile_catalog(po: Path, *, force: bool = False) -> bool:
    """Write po's .mo beside it; False when it was already up to date."""
    mo = po.with_suffix(".mo")
    if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return False
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name)
    # Fuzzy entries are left out, as msgfmt does: a guessed translation is never shown.
    partial = mo.with_name(mo.name + ".tmp")
    with partial.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    partial.replace(mo)  # atomic: a running server never reads half a file
    return True


def compile_all(*, force: bool = False, locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Compile every catalog that needs it; the .po files compiled."""
    found = catalogs(locale_dir)
    if not found:
        raise FileNotFoundError(f"no translation catalogs under {locale_dir}")
    return [po for po in found if compile_catalog(po, force=force)]


if __name__ == "__main__":
    for compiled in compile_all(force="--force" in sys.argv[1:]):
        print(f"compiled {compiled.relative_to(LOCALE_DIR.parent)}")
