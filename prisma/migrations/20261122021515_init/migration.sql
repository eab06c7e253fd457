-- CreateEnum
CREATE TYPE "ChatPlatform" AS ENUM ('telegram', 'discord');

-- CreateEnum
CREATE TYPE "VpnKind" AS ENUM ('ppp', 'wireguard');

-- CreateEnum
CREATE TYPE "SessionState" AS ENUM ('pending', 'approved', 'denied', 'expired', 'closed');

-- CreateEnum
CREATE TYPE "RouterEffect" AS ENUM ('none', 'queued', 'applied', 'failed');

-- CreateEnum
CREATE TYPE "BanReason" AS ENUM ('denied', 'unconfirmed', 'manual');

-- CreateTable
CREATE TABLE "routers" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "api_host" TEXT NOT NULL,
    "api_port" INTEGER NOT NULL DEFAULT 8728,
    "api_tls" BOOLEAN NOT NULL DEFAULT false,
    "api_user" TEXT NOT NULL,
    "api_password_enc" TEXT NOT NULL,
    "sandbox_list" TEXT NOT NULL DEFAULT 'warden-sandbox',
    "permit_list" TEXT NOT NULL DEFAULT 'warden-permit',
    "ban_list" TEXT NOT NULL DEFAULT 'warden-banned',
    "hook_token_hash" TEXT NOT NULL,
    "allowed_cidrs" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "routers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "people" (
    "id" UUID NOT NULL,
    "display_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "people_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "chat_identities" (
    "id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "platform" "ChatPlatform" NOT NULL,
    "external_id" TEXT NOT NULL,
    "chat_id" TEXT NOT NULL,
    "username" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "chat_identities_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "link_codes" (
    "id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "code_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "link_codes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "vpn_accounts" (
    "id" UUID NOT NULL,
    "router_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "kind" "VpnKind" NOT NULL,
    "username" TEXT,
    "wg_public_key" TEXT,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "unconfirmed_streak" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "vpn_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "connection_sessions" (
    "id" UUID NOT NULL,
    "router_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "state" "SessionState" NOT NULL DEFAULT 'pending',
    "service" TEXT,
    "caller_id" TEXT NOT NULL,
    "session_address" TEXT NOT NULL,
    "interface_name" TEXT,
    "router_session_id" TEXT,
    "decision_token" TEXT NOT NULL,
    "verified_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "decided_at" TIMESTAMPTZ(3),
    "decided_by_id" UUID,
    "closed_at" TIMESTAMPTZ(3),
    "close_reason" TEXT,
    "router_effect" "RouterEffect" NOT NULL DEFAULT 'none',
    "effect_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "connection_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "session_prompts" (
    "id" UUID NOT NULL,
    "session_id" UUID NOT NULL,
    "platform" "ChatPlatform" NOT NULL,
    "chat_id" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "rendered_state" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "session_prompts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bans" (
    "id" UUID NOT NULL,
    "router_id" UUID NOT NULL,
    "address" TEXT NOT NULL,
    "reason" "BanReason" NOT NULL,
    "session_id" UUID,
    "account_id" UUID,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "lifted_at" TIMESTAMPTZ(3),
    "lifted_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bans_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "router_id" UUID,
    "session_id" UUID,
    "person_id" UUID,
    "detail" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_jobs" (
    "id" BIGSERIAL NOT NULL,
    "queue" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "run_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatched_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "routers_name_key" ON "routers"("name");

-- CreateIndex
CREATE INDEX "chat_identities_person_id_idx" ON "chat_identities"("person_id");

-- CreateIndex
CREATE UNIQUE INDEX "chat_identities_platform_external_id_key" ON "chat_identities"("platform", "external_id");

-- CreateIndex
CREATE UNIQUE INDEX "link_codes_code_hash_key" ON "link_codes"("code_hash");

-- CreateIndex
CREATE INDEX "link_codes_person_id_idx" ON "link_codes"("person_id");

-- CreateIndex
CREATE INDEX "vpn_accounts_person_id_idx" ON "vpn_accounts"("person_id");

-- CreateIndex
CREATE UNIQUE INDEX "vpn_accounts_router_id_username_key" ON "vpn_accounts"("router_id", "username");

-- CreateIndex
CREATE UNIQUE INDEX "vpn_accounts_router_id_wg_public_key_key" ON "vpn_accounts"("router_id", "wg_public_key");

-- CreateIndex
CREATE UNIQUE INDEX "connection_sessions_decision_token_key" ON "connection_sessions"("decision_token");

-- CreateIndex
CREATE INDEX "connection_sessions_router_id_session_address_state_idx" ON "connection_sessions"("router_id", "session_address", "state");

-- CreateIndex
CREATE INDEX "connection_sessions_account_id_created_at_idx" ON "connection_sessions"("account_id", "created_at");

-- CreateIndex
CREATE INDEX "connection_sessions_state_router_effect_idx" ON "connection_sessions"("state", "router_effect");

-- CreateIndex
CREATE UNIQUE INDEX "session_prompts_session_id_platform_chat_id_key" ON "session_prompts"("session_id", "platform", "chat_id");

-- CreateIndex
CREATE INDEX "bans_router_id_address_expires_at_idx" ON "bans"("router_id", "address", "expires_at");

-- CreateIndex
CREATE INDEX "audit_events_session_id_idx" ON "audit_events"("session_id");

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

-- CreateIndex
CREATE INDEX "outbox_jobs_dispatched_at_id_idx" ON "outbox_jobs"("dispatched_at", "id");

-- AddForeignKey
ALTER TABLE "chat_identities" ADD CONSTRAINT "chat_identities_person_id_fkey" FOREIGN KEY ("person_id") REFERENCES "people"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "link_codes" ADD CONSTRAINT "link_codes_person_id_fkey" FOREIGN KEY ("person_id") REFERENCES "people"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "vpn_accounts" ADD CONSTRAINT "vpn_accounts_router_id_fkey" FOREIGN KEY ("router_id") REFERENCES "routers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "vpn_accounts" ADD CONSTRAINT "vpn_accounts_person_id_fkey" FOREIGN KEY ("person_id") REFERENCES "people"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connection_sessions" ADD CONSTRAINT "connection_sessions_router_id_fkey" FOREIGN KEY ("router_id") REFERENCES "routers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connection_sessions" ADD CONSTRAINT "connection_sessions_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "vpn_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session_prompts" ADD CONSTRAINT "session_prompts_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "connection_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bans" ADD CONSTRAINT "bans_router_id_fkey" FOREIGN KEY ("router_id") REFERENCES "routers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------
-- Warden additions (hand-written; everything above is what `prisma migrate dev`
-- generates for prisma/schema.prisma).
-- Prisma's schema model does not see functions or triggers, so these leave
-- `prisma migrate diff`/`dev`/`deploy` in agreement with schema.prisma.
-- ---------------------------------------------------------------------------

-- AuditEvent rows are the record of every decision: refuse UPDATE and DELETE so
-- neither a bug nor a compromised application role can rewrite history.
-- (TRUNCATE stays possible for deliberate, privileged maintenance.)
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING HINT = 'Audit events can only be inserted.';
END;
$$;

CREATE TRIGGER "audit_events_append_only"
BEFORE UPDATE OR DELETE ON "audit_events"
FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();
