import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { connection } from "next/server";
import { ORDERS_CHANNEL } from "@/components/demo/channels";
import { DemoHeader } from "@/components/demo/demo-header";
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
      <DemoHeader
        title="Orders, live"
        docs={["docs/guide/live-pages.md", "docs/guide/channels.md"]}
      >
        The last 10 orders were rendered on the server; new ones arrive live, starting exactly after
        them. Orders are declared in <code>lib/channels.ts</code>: a quantity that is not a whole
        number is refused with the schema&apos;s message.
      </DemoHeader>
      <OrdersFeed initial={latest.events} position={latest.position} />
    </main>
  );
}
