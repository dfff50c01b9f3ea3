"""Admin faces of analytics: the dashboard, the customer timeline and their SVG charts."""
