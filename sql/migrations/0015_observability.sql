-- Observability (issue 17).
--
-- desired_at: when an instance's desired state last changed, set by
-- lib/domain/lifecycle.c with `desired`; /metrics reports the oldest one
-- whose observed status still differs (the reconcile lag).
-- trace_parent: the W3C traceparent of the request (or pass) that made that
-- change; the reconciler continues that trace, so "create -> reconcile ->
-- apply -> ready mail" is one trace.  A mail keeps the traceparent of what
-- queued it.  Neither says anything about the person.
ALTER TABLE db_instances
	ADD COLUMN desired_at timestamptz NOT NULL DEFAULT now(),
	ADD COLUMN trace_parent text
		CHECK (trace_parent ~ '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');

ALTER TABLE mail_outbox
	ADD COLUMN trace_parent text
		CHECK (trace_parent ~ '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');
