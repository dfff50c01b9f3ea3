"""Engagement metrics, split by family (periods, activity, status, money), the dashboard's
board, and the rollups that answer the heavy ones ahead (docs/architecture.md)."""
