"""Accounts: users, passwords, permissions, sign-in throttling, and API clients with their tokens."""
