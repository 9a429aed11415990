"""RQ job functions, one module per family. Each job runs in its own app context (see
app.queue.AppContextJob); jobs receive ids, never ORM objects, and are safe to run twice."""
