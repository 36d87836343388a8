"""The Telegram bot (`watcher run`): a thin shell over the pipeline and the store.

app.py builds the Application and keeps the shared `Services` (services.py) in `bot_data`;
handlers.py answers the commands; schedule.py says when the weekly digest is due and jobs.py
runs it; delivery.py is the outbox that sends digests; checks.py keeps to one check at a time;
secret.py reads the token and keeps it out of the logs.
"""
