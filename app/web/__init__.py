"""Web layer: one blueprint package per role, plus auth, static assets and shared helpers."""
