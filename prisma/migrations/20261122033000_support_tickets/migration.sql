-- CreateEnum
CREATE TYPE "TicketState" AS ENUM ('waiting_support', 'waiting_user', 'closed');

-- CreateEnum
CREATE TYPE "TicketAuthor" AS ENUM ('user', 'support', 'system');

-- CreateTable
CREATE TABLE "tickets" (
    "id" UUID NOT NULL,
    "number" SERIAL NOT NULL,
    "platform" "ChatPlatform" NOT NULL,
    "external_id" TEXT NOT NULL,
    "chat_id" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "person_id" UUID,
    "state" "TicketState" NOT NULL DEFAULT 'waiting_support',
    "subject" TEXT NOT NULL,
    "support_platform" "ChatPlatform" NOT NULL,
    "support_chat_id" TEXT,
    "support_root_id" TEXT,
    "last_user_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_support_at" TIMESTAMPTZ(3),
    "reminded_at" TIMESTAMPTZ(3),
    "closed_at" TIMESTAMPTZ(3),
    "closed_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tickets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ticket_messages" (
    "id" UUID NOT NULL,
    "ticket_id" UUID NOT NULL,
    "author" "TicketAuthor" NOT NULL,
    "author_name" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "internal" BOOLEAN NOT NULL DEFAULT false,
    "attachment_kind" TEXT,
    "attachment_name" TEXT,
    "attachment" BYTEA,
    "support_message_id" TEXT,
    "relayed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ticket_messages_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tickets_number_key" ON "tickets"("number");

-- CreateIndex
CREATE INDEX "tickets_platform_external_id_state_idx" ON "tickets"("platform", "external_id", "state");

-- CreateIndex
CREATE INDEX "tickets_state_last_user_at_idx" ON "tickets"("state", "last_user_at");

-- CreateIndex
CREATE INDEX "ticket_messages_ticket_id_created_at_idx" ON "ticket_messages"("ticket_id", "created_at");

-- CreateIndex
CREATE INDEX "ticket_messages_support_message_id_idx" ON "ticket_messages"("support_message_id");

-- AddForeignKey
ALTER TABLE "ticket_messages" ADD CONSTRAINT "ticket_messages_ticket_id_fkey" FOREIGN KEY ("ticket_id") REFERENCES "tickets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
