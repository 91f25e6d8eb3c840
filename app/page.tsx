import { Quickstart } from "@/components/quickstart";
import { DEFAULT_CHANNEL, isValidChannel } from "@/lib/sse/channel";

export default async function HomePage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  // `/?channel=NAME` listens to another channel; the quickstart's is `sse`.
  const requested = (await searchParams).channel;
  const channel =
    typeof requested === "string" && isValidChannel(requested) ? requested : DEFAULT_CHANNEL;
  const streamUrl = channel === DEFAULT_CHANNEL ? "/stream" : `/stream?channel=${channel}`;
  return (
    <main className="mx-auto flex max-w-2xl flex-col gap-6 px-4 py-12">
      <header>
        <h1 className="text-3xl font-bold tracking-tight">next-sse Quickstart</h1>
        <p className="mt-2 text-zinc-600 dark:text-zinc-400">
          This page listens to <code className="font-mono">{streamUrl}</code>. Open{" "}
          <a className="font-medium underline" href="/hello" target="_blank" rel="noreferrer">
            /hello
          </a>{" "}
          in another tab: each visit publishes a <code className="font-mono">greeting</code> through
          Redis and this tab shows an alert.
        </p>
      </header>
      <Quickstart streamUrl={streamUrl} />
    </main>
  );
}
