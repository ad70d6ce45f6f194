"""The product catalog: domain model, lifecycle, validation, store and published snapshots."""
