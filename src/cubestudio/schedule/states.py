"""Schedule record statuses and run triggers, in one place.

A record is one (pipeline, execution_date) tick. It is born ``comed`` (due, waiting for a run)
or ``skipped`` (missed while the scheduler was down, with catchup off); a ``comed`` record
leaves through ``created`` (its run was created in the same transaction) or ``expired``
(pushed out by ``expired_limit``). ``created``, ``expired`` and ``skipped`` are final.
"""

from __future__ import annotations

from enum import StrEnum


class RecordStatus(StrEnum):
    COMED = "comed"  # due, waiting for a slot, for the past to succeed, or to be launched
    CREATED = "created"  # its run exists: the record's run_id
    EXPIRED = "expired"  # older than the expired_limit newest waiting records
    SKIPPED = "skipped"  # missed while no scheduler ran, and catchup is off


class RunTrigger(StrEnum):
    """The ``trigger`` of the runs the scheduler creates (manual runs say ``manual``)."""

    SCHEDULE = "schedule"
    BACKFILL = "backfill"
