"""Date formats: one format, with its time zone, in every language (docs/DECISIONS.md)."""
