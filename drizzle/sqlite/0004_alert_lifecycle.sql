CREATE TABLE `open_keys` (
	`subscription_id` text NOT NULL,
	`recipient` text NOT NULL,
	`dedup_key` text NOT NULL,
	`message_id` text NOT NULL,
	`opened_at` integer NOT NULL,
	PRIMARY KEY(`subscription_id`, `recipient`, `dedup_key`)
);
--> statement-breakpoint
CREATE TABLE `slack_messages` (
	`id` text PRIMARY KEY NOT NULL,
	`subscription_id` text NOT NULL,
	`channel` text NOT NULL,
	`ts` text NOT NULL,
	`token_source` text NOT NULL,
	`entries` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `slack_messages_channel_ts` ON `slack_messages` (`channel`,`ts`);--> statement-breakpoint
ALTER TABLE `alerts` ADD `dedup_key` text;--> statement-breakpoint
ALTER TABLE `alerts` ADD `event` text DEFAULT 'firing' NOT NULL;--> statement-breakpoint
ALTER TABLE `alerts` ADD `reply_ts` text;--> statement-breakpoint
ALTER TABLE `alerts` ADD `coalesced` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `alerts_dedup_key` ON `alerts` (`subscription_id`,`dedup_key`,`id`) WHERE "alerts"."dedup_key" is not null;