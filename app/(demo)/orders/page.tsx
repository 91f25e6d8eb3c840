import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { connection } from "next/server";
import { ORDERS_CHANNEL } from "@/components/demo/channels";
import { DocsLinks } from "@/components/demo/docs-links";
import { OrdersFeed } from "@/components/demo/orders-feed";
import { getConfig } from "@/lib/config";
import { type LatestEvents, readLatest } from "@/lib/features/history";

export const metadata: Metadata = { title: "next-sse live page" };

/**
 * A live page: the newest orders rendered here, on the server, then live in the browser
 * from exactly the position after them: nothing missed between the render and hydration,
 * nothing twice.
 */
export default async function OrdersPage() {
  await connection();
  if (!getConfig().demo) notFound();
  // Redis down: the page still renders, and the browser rewinds once it connects.
  const latest: LatestEvents<typeof ORDERS_CHANNEL> = await readLatest(ORDERS_CHANNEL, 10).catch(
    () => ({ channel: ORDERS_CHANNEL, events: [], position: null }),
  );
  return (
    <main className="mx-auto flex max-w-2xl flex-col gap-6 px-4 py-12">
      <header className="flex flex-col gap-2">
        <a href="/" className="text-sm text-zinc-500 underline">
          ← quickstart
        </a>
        <h1 className="text-3xl font-bold tracking-tight">Orders, live</h1>
        <p className="text-zinc-600 dark:text-zinc-400">
          The last 10 orders were rendered on the server; new ones arrive live, starting exactly
          after them. Orders are declared in <code>lib/channels.ts</code>: a quantity that is not a
          whole number is refused with the schema&apos;s message.
        </p>
        <DocsLinks files={["docs/guide/live-pages.md", "docs/guide/channels.md"]} />
      </header>
      <OrdersFeed initial={latest.events} position={latest.position} />
    </main>
  );
}
