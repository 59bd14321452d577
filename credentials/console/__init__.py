"""The console's pages and htmx fragments: views/ (one module per page), the forms, the
long-term list's query, the Temporary tab's log, the long-term tab's page cache, the CSV a new
secret leaves in, and the header's context processor."""
