"""Explanation jobs on a queue (EXPLAIN_BACKEND=queue): TaskIQ over a Redis stream carries
"run this job" to `tutorbot worker` processes; the job row in the database is the truth.

- broker.py: the stream, the task's name and message, the deadline rule both sides share;
- client.py: the bot's side, behind the Explainer: enqueue once, wait on the row, re-kick;
- worker.py: the worker's side: claim the row, run the experiment in a child, store it.

Delivery is at least once and a dead worker's message comes back only late (bench/
queue_engines.py), so every job is idempotent and the bot's own deadline is the guarantee.
"""
