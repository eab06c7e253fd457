-- AlterTable
ALTER TABLE "chat_identities" ADD COLUMN     "receives_prompts" BOOLEAN NOT NULL DEFAULT true;
