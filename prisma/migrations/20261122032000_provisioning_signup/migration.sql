-- CreateEnum
CREATE TYPE "ProvisionState" AS ENUM ('provisioning', 'active', 'failed', 'deleting');

-- CreateEnum
CREATE TYPE "SignupState" AS ENUM ('pending', 'approved', 'rejected');

-- AlterTable
ALTER TABLE "people" ADD COLUMN     "device_limit" INTEGER;

-- AlterTable
ALTER TABLE "routers" ADD COLUMN     "ipsec_secret_enc" TEXT,
ADD COLUMN     "ppp_profile" TEXT NOT NULL DEFAULT 'default-encryption',
ADD COLUMN     "ppp_service" TEXT NOT NULL DEFAULT 'any',
ADD COLUMN     "vpn_host" TEXT,
ADD COLUMN     "wg_allowed_ips" TEXT[] DEFAULT ARRAY['0.0.0.0/0', '::/0']::TEXT[],
ADD COLUMN     "wg_dns" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "wg_interface" TEXT,
ADD COLUMN     "wg_keepalive" INTEGER NOT NULL DEFAULT 25,
ADD COLUMN     "wg_pool" TEXT,
ADD COLUMN     "wg_port" INTEGER;

-- AlterTable
ALTER TABLE "vpn_accounts" ADD COLUMN     "label" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "managed" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "ppp_password_enc" TEXT,
ADD COLUMN     "provision_error" TEXT,
ADD COLUMN     "provision_state" "ProvisionState" NOT NULL DEFAULT 'active',
ADD COLUMN     "wg_address" TEXT,
ADD COLUMN     "wg_last_handshake_at" TIMESTAMPTZ(3),
ADD COLUMN     "wg_online" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "wg_preshared_key_enc" TEXT,
ADD COLUMN     "wg_private_key_enc" TEXT;

-- CreateTable
CREATE TABLE "invites" (
    "id" UUID NOT NULL,
    "code_hash" TEXT NOT NULL,
    "router_id" UUID NOT NULL,
    "kind" "VpnKind" NOT NULL DEFAULT 'wireguard',
    "max_uses" INTEGER NOT NULL DEFAULT 1,
    "uses" INTEGER NOT NULL DEFAULT 0,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "invites_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "signup_requests" (
    "id" UUID NOT NULL,
    "platform" "ChatPlatform" NOT NULL,
    "external_id" TEXT NOT NULL,
    "chat_id" TEXT NOT NULL,
    "username" TEXT,
    "display_name" TEXT NOT NULL,
    "state" "SignupState" NOT NULL DEFAULT 'pending',
    "decision_token" TEXT NOT NULL,
    "decided_by" TEXT,
    "decided_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "signup_requests_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "signup_prompts" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "platform" "ChatPlatform" NOT NULL,
    "chat_id" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "signup_prompts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "invites_code_hash_key" ON "invites"("code_hash");

-- CreateIndex
CREATE UNIQUE INDEX "signup_requests_decision_token_key" ON "signup_requests"("decision_token");

-- CreateIndex
CREATE INDEX "signup_requests_platform_external_id_state_idx" ON "signup_requests"("platform", "external_id", "state");

-- CreateIndex
CREATE UNIQUE INDEX "signup_prompts_request_id_platform_chat_id_key" ON "signup_prompts"("request_id", "platform", "chat_id");

-- CreateIndex
CREATE UNIQUE INDEX "vpn_accounts_router_id_wg_address_key" ON "vpn_accounts"("router_id", "wg_address");

-- AddForeignKey
ALTER TABLE "invites" ADD CONSTRAINT "invites_router_id_fkey" FOREIGN KEY ("router_id") REFERENCES "routers"("id") ON DELETE CASCADE ON UPDATE CASCADE;
