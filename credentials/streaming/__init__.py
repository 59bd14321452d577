"""The audit trail streamed out to a syslog receiver (manage.py stream_audit_trail):
`syslog.py` makes an event's RFC 5424 message, `receiver.py` delivers bytes over TCP or TLS,
`sender.py` sends the outbox (credentials/models/audit_stream.py) in order. Nothing else
imports them."""
