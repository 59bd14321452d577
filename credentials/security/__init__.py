"""The defences: failed-attempt limits, the shared cache behind them, the authentication
backends, the runtime database role's grants and the audit trail's hash chain
(docs/SECURITY.md)."""
