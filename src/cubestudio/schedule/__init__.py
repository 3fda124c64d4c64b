"""The cron scheduler (SPEC F9): schedules, their records, and the runs they create.

- ``cron``, ``timetable``, ``plan``: pure planning of cron ticks in a time zone, DST included.
  They import nothing from the store; `cube schedule plan` uses them without a database.
- ``scheduler``: ``Scheduler.tick(now)`` records due ticks and admits their runs
  (``admission``), then hands the runs to a ``RunLauncher`` (``launch``). ``service`` runs it
  on a clock; ``registry`` applies, pauses and lists schedules; ``backfill`` fills a range.

Invariants: one record per (pipeline, execution_date), enforced by the database; a record
turns ``created`` in the same transaction that creates its run; planning and admission for a
pipeline happen under its row lock, so replicas never both decide for it; time is always
passed in, never read deep inside.
"""
