"""Views written once and mounted on several role blueprints, one package per domain."""
