"""Engagement services: rule changes, the whole-base recompute and preview, the live evaluation."""
