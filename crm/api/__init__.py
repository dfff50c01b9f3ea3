"""API building blocks shared by the apps' API modules."""
