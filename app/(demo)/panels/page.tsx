import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { ChannelPanel } from "@/components/demo/channel-panel";
import { DocsLinks } from "@/components/demo/docs-links";
import { getConfig } from "@/lib/config";
import { isValidChannel } from "@/lib/sse/channel";

export const metadata: Metadata = { title: "next-sse panels" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const DEFAULT_PANELS = ["news", "chat", "sse"];
const MAX_PANELS = 8;

/**
 * Several components on several channels, one stream: `/panels?channel=a&channel=b`. Open
 * it in a few tabs too; every tab of the origin shares one connection.
 */
export default async function PanelsPage({ searchParams }: { searchParams: SearchParams }) {
  if (!getConfig().demo) notFound();
  const asked = (await searchParams).channel;
  const names = (Array.isArray(asked) ? asked : asked === undefined ? [] : [asked]).filter((name) =>
    isValidChannel(name),
  );
  const channels = [...new Set(names)].slice(0, MAX_PANELS);
  return (
    <main className="mx-auto flex max-w-5xl flex-col gap-6 px-4 py-8">
      <header>
        <h1 className="text-2xl font-bold tracking-tight">Live panels</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          One panel per channel, one stream for all of them, in every tab.
        </p>
        <DocsLinks files={["docs/guide/browser-client.md", "docs/guide/access.md"]} />
      </header>
      <div className="grid gap-4 sm:grid-cols-3">
        {(channels.length > 0 ? channels : DEFAULT_PANELS).map((channel) => (
          <ChannelPanel key={channel} channel={channel} />
        ))}
      </div>
    </main>
  );
}
