"""The engagement engine: rules, figures, classification, the whole-base recompute and the
live evaluation of one customer (docs/architecture.md)."""
