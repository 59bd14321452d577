"""The suite's password hasher: Django's own PBKDF2-SHA256, with 1,000 iterations instead of
Django's 1,000,000.

Every test user's password was hashed at full cost (~0.3 s of CPU each, several per test):
a quarter of the suite's time went into PBKDF2. The algorithm, the stored format and every code
path stay Django's: a hash made here names its iterations and verifies anywhere (a gunicorn the
suite starts, with Django's defaults, accepts it, and re-hashes it at full cost on sign-in as
it would any older hash). Production never loads this module (docs/DECISIONS.md)."""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1_000
