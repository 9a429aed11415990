"""Cross-cutting helpers every domain uses: errors, paging, clock, money parsing, Redis connection, and the audit trail."""
