CREATE TABLE `alerts` (
	`id` text PRIMARY KEY NOT NULL,
	`subscription_id` text NOT NULL,
	`transfer` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`token_source` text,
	`recipient` text NOT NULL,
	`message` text NOT NULL,
	`slack_channel` text,
	`slack_ts` text,
	`error_code` text,
	`error_message` text,
	`api_key_id` text,
	`idempotency_key` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE INDEX `alerts_subscription_created` ON `alerts` (`subscription_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `alerts_status_updated` ON `alerts` (`status`,`updated_at`);--> statement-breakpoint
CREATE INDEX `alerts_created` ON `alerts` (`created_at`);--> statement-breakpoint
CREATE INDEX `alerts_idempotency` ON `alerts` (`api_key_id`,`idempotency_key`);--> statement-breakpoint
CREATE TABLE `oauth_installations` (
	`subscription_id` text PRIMARY KEY NOT NULL,
	`team_id` text,
	`team_name` text,
	`bot_user_id` text,
	`scopes` text,
	`access_token_sealed` text NOT NULL,
	`refresh_token_sealed` text,
	`expires_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`name_key` text NOT NULL,
	`version` text NOT NULL,
	`api_url` text NOT NULL,
	`api_token_sealed` text NOT NULL,
	`api_token_mask` text NOT NULL,
	`client_id` text NOT NULL,
	`recipient` text,
	`throttle` text NOT NULL,
	`reauth_required` integer DEFAULT false NOT NULL,
	`team_id` text,
	`team_name` text,
	`last_sync` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subscriptions_name_key_unique` ON `subscriptions` (`name_key`);