CREATE TABLE "open_keys" (
	"subscription_id" text NOT NULL,
	"recipient" text NOT NULL,
	"dedup_key" text NOT NULL,
	"message_id" text NOT NULL,
	"opened_at" bigint NOT NULL,
	CONSTRAINT "open_keys_subscription_id_recipient_dedup_key_pk" PRIMARY KEY("subscription_id","recipient","dedup_key")
);
--> statement-breakpoint
CREATE TABLE "slack_messages" (
	"id" text PRIMARY KEY NOT NULL,
	"subscription_id" text NOT NULL,
	"channel" text NOT NULL,
	"ts" text NOT NULL,
	"token_source" text NOT NULL,
	"entries" jsonb NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "dedup_key" text;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "event" text DEFAULT 'firing' NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "reply_ts" text;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "coalesced" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "slack_messages_channel_ts" ON "slack_messages" USING btree ("channel","ts");--> statement-breakpoint
CREATE INDEX "alerts_dedup_key" ON "alerts" USING btree ("subscription_id","dedup_key","id") WHERE "alerts"."dedup_key" is not null;