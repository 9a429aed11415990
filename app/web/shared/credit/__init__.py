"""Credit pages shared by the admin and dealer blueprints: limits, payments, statements."""
