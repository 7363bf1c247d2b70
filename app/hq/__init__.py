"""The reference HQ receiver: stores' batches into PostgreSQL, and a small query API.

`python main.py hq --database-url postgresql://...` serves it (app.cli.hq); the stores'
side of the conversation is app.sync.outbox_sender.
"""
