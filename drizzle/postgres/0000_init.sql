CREATE TABLE "alerts" (
	"id" text PRIMARY KEY NOT NULL,
	"subscription_id" text NOT NULL,
	"transfer" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"token_source" text,
	"recipient" text NOT NULL,
	"message" jsonb NOT NULL,
	"slack_channel" text,
	"slack_ts" text,
	"error_code" text,
	"error_message" text,
	"api_key_id" text,
	"idempotency_key" text,
	"payload_hash" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"delivered_at" bigint
);
--> statement-breakpoint
CREATE TABLE "oauth_installations" (
	"subscription_id" text PRIMARY KEY NOT NULL,
	"team_id" text,
	"team_name" text,
	"bot_user_id" text,
	"scopes" text,
	"access_token_sealed" text NOT NULL,
	"refresh_token_sealed" text,
	"expires_at" bigint,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oauth_states" (
	"state_digest" text PRIMARY KEY NOT NULL,
	"subscription_id" text NOT NULL,
	"install_options" jsonb NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"name_key" text NOT NULL,
	"version" text NOT NULL,
	"api_url" text NOT NULL,
	"api_token_sealed" text NOT NULL,
	"api_token_mask" text NOT NULL,
	"client_id" text NOT NULL,
	"recipient" text,
	"throttle" jsonb NOT NULL,
	"reauth_required" boolean DEFAULT false NOT NULL,
	"team_id" text,
	"team_name" text,
	"last_sync" jsonb,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "alerts_subscription_created" ON "alerts" USING btree ("subscription_id","created_at");--> statement-breakpoint
CREATE INDEX "alerts_status_updated" ON "alerts" USING btree ("status","updated_at");--> statement-breakpoint
CREATE INDEX "alerts_idempotency_key" ON "alerts" USING btree (coalesce("api_key_id", ''),"idempotency_key") WHERE "alerts"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "alerts_api_key" ON "alerts" USING btree ("api_key_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "subscriptions_name_key_unique" ON "subscriptions" USING btree ("name_key");