"""Webhook alerts (``alerts:`` in a pipeline; the spec is ``cubestudio.spec.alerts``).

How an alert travels:
1. The engine records a delivery in the ``alert_deliveries`` outbox, in the transaction of
   the turn that made the move (``rules``): it never makes an HTTP call, so a slow or dead
   receiver can never hold a run up.
2. A sender (``sender.AlertSender``; `cube alerts send`, started by `cube server`) claims due
   deliveries, posts each one's JSON and records the outcome. A failed try (a network error,
   a status that is not 2xx, a redirect: redirects are never followed) is tried again after
   5 s, 10 s, 20 s ... up to 10 min, 8 tries in all; then the delivery is ``failed`` with its
   last error. Several senders may run at once: a delivery is claimed by one. Delivery is at
   least once (a sender killed mid-call leaves its claim to expire): dedupe on the id.

What a receiver gets: ``POST`` with a JSON body ``{event, scope, project, pipeline, run_id,
task, attempt, status, message, execution_date, created_at, run_url, sent_at}`` and headers
- ``X-Cube-Event``: failure / success / timeout / retry
- ``X-Cube-Delivery``: the delivery's id (the same on every try)
- ``X-Cube-Timestamp``: Unix seconds when this try was sent
- ``X-Cube-Signature``: ``sha256=`` + the hex HMAC-SHA256, keyed with the webhook secret,
  of ``<X-Cube-Timestamp>.<body bytes>``. Check it with a constant-time comparison and refuse
  timestamps more than a few minutes old (a replayed request), as ``signing.verify`` does.

The webhook secret is ``CUBE_WEBHOOK_SECRET``, else ``$CUBE_HOME/webhook.key`` (created 0600
on first use); several senders must share it.

Invariant: only the engine records deliveries, only senders change them.
"""
