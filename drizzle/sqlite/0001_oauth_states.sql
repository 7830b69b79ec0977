CREATE TABLE `oauth_states` (
	`state_digest` text PRIMARY KEY NOT NULL,
	`subscription_id` text NOT NULL,
	`install_options` text NOT NULL,
	`expires_at` integer NOT NULL
);
