"""The notification centre, mounted on every role blueprint."""
