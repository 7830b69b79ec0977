ALTER TABLE `alerts` ADD `payload_hash` text;--> statement-breakpoint
CREATE INDEX `alerts_api_key` ON `alerts` (`api_key_id`,`id`);