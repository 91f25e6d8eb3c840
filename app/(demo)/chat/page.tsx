import type { Metadata } from "next";
import { notFound, redirect } from "next/navigation";
import { connection } from "next/server";
import { Chat } from "@/components/demo/chat";
import { DemoHeader } from "@/components/demo/demo-header";
import { getConfig } from "@/lib/config";

export const metadata: Metadata = { title: "next-sse chat" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** A chat whose answers survive reloads, other tabs and other instances (`lib/ai`). */
export default async function ChatPage({ searchParams }: { searchParams: SearchParams }) {
  await connection();
  const config = getConfig();
  if (!config.demo) notFound();
  const { id } = await searchParams;
  // The chat's id is in the URL, so a reload or a second tab finds its answer.
  if (typeof id !== "string" || !/^[A-Za-z0-9_-]{8,100}$/.test(id)) {
    redirect(`/chat?id=${crypto.randomUUID()}`);
  }
  return (
    <main className="mx-auto flex max-w-2xl flex-col gap-6 px-4 py-12">
      <DemoHeader title="Resumable answers" docs={["docs/guide/ai-answers.md"]}>
        Ask, then reload mid-answer, or open this page in a second tab: the answer goes on and each
        tab shows all of it, once. Stop ends it everywhere.{" "}
        {config.aiModel === undefined
          ? "The AI SDK's mock model answers (set SSE_AI_MODEL for a real one)."
          : `Model: ${config.aiModel}.`}
      </DemoHeader>
      <Chat chatId={id} />
    </main>
  );
}
