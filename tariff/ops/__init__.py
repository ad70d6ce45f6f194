"""What an operator runs and watches: metrics, structured logs, the multi-process
supervisor and instant reload (docs/operations.md)."""
