"""Report pages shared by the admin and dealer blueprints (a dealer's report is limited to its own sales)."""
