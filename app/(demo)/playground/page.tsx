import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { connection } from "next/server";
import { PLAYGROUND_CHANNELS, PRIVATE_PLAYGROUND_CHANNEL } from "@/components/demo/channels";
import { DemoHeader } from "@/components/demo/demo-header";
import { Playground } from "@/components/demo/playground";
import { mintChannelToken } from "@/lib/access/tokens";
import { getConfig } from "@/lib/config";

export const metadata: Metadata = { title: "next-sse playground" };

export default async function PlaygroundPage() {
  // Rendered per request: the token is minted now, not at build time.
  await connection();
  if (!getConfig().demo) notFound();
  // Minted on the server for this page; the publish side never reaches the browser.
  const token = mintChannelToken([PRIVATE_PLAYGROUND_CHANNEL]);
  return (
    <main className="mx-auto flex max-w-5xl flex-col gap-6 px-4 py-8 sm:py-12">
      <DemoHeader
        title="next-sse playground"
        docs={["docs/guide/publish-and-listen.md", "docs/guide/history.md"]}
      >
        Pick channels, connect, publish. Every event goes through the broker (Redis when configured)
        and comes back on the stream; drop the connection while publishing and watch it resume
        without losing anything.
      </DemoHeader>
      <Playground
        channels={PLAYGROUND_CHANNELS}
        privateChannel={PRIVATE_PLAYGROUND_CHANNEL}
        token={token}
      />
    </main>
  );
}
