DROP INDEX `alerts_created`;--> statement-breakpoint
DROP INDEX `alerts_idempotency`;--> statement-breakpoint
CREATE INDEX `alerts_idempotency_key` ON `alerts` (`api_key_id`,`idempotency_key`) WHERE "alerts"."idempotency_key" is not null;