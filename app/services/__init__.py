"""Domain logic. Services take plain arguments and the session, flush but never commit, and
raise DomainError subclasses with a user-facing message. They never touch `request`."""
