"""Helpers every blueprint uses: access guards, htmx responses, forms, filters, error pages, i18n, listing."""
