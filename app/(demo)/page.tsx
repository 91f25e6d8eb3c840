import { cookies } from "next/headers";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AccountChannel } from "@/components/demo/account-channel";
import { PRIVATE_DEMO_CHANNEL } from "@/components/demo/channels";
import { DocsLinks } from "@/components/demo/docs-links";
import { mintDemoVisitorToken } from "@/components/demo/fences";
import { PrivateChannel } from "@/components/demo/private-channel";
import { Quickstart } from "@/components/demo/quickstart";
import { StreamBadge } from "@/components/demo/stream-badge";
import { readSession, SESSION_COOKIE } from "@/lib/access/sessions";
import { getConfig } from "@/lib/config";
import { DEFAULT_CHANNEL, isValidChannel } from "@/lib/sse/channel";

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function HomePage({ searchParams }: { searchParams: SearchParams }) {
  // SSE_DEMO=off: the quickstart is gone (404); put your own page here.
  if (!getConfig().demo) notFound();
  const params = await searchParams;
  // `/?channel=NAME` listens to another channel; the quickstart's is `sse`.
  const channel =
    typeof params.channel === "string" && isValidChannel(params.channel)
      ? params.channel
      : DEFAULT_CHANNEL;
  const streamUrl = channel === DEFAULT_CHANNEL ? "/stream" : `/stream?channel=${channel}`;
  // The token is minted here, on the server; `/?private=no-token` shows the refusal.
  const token =
    params.private === "no-token" ? undefined : mintDemoVisitorToken(PRIVATE_DEMO_CHANNEL);
  // The token travels in an Authorization header, never in the URL (see PrivateChannel);
  // `members=1` adds who joins and leaves.
  const privateUrl = `/stream?channel=${PRIVATE_DEMO_CHANNEL}&members=1`;
  // The sign-in recipe: a session cookie opens the user's own `user-<name>` channel.
  const session = await readSession((await cookies()).get(SESSION_COOKIE)?.value).catch(
    () => undefined,
  );
  return (
    <main className="mx-auto flex max-w-2xl flex-col gap-6 px-4 py-12">
      <header>
        <div className="flex items-center gap-3">
          <h1 className="text-3xl font-bold tracking-tight">next-sse Quickstart</h1>
          <StreamBadge streamUrl={streamUrl} />
        </div>
        <p className="mt-2 text-zinc-600 dark:text-zinc-400">
          This page listens to <code className="font-mono">{streamUrl}</code>. Open{" "}
          <a className="font-medium underline" href="/hello" target="_blank" rel="noreferrer">
            /hello
          </a>{" "}
          in another tab: each visit publishes a <code className="font-mono">greeting</code> through
          Redis and this tab shows an alert.
        </p>
        <p className="mt-2 text-zinc-600 dark:text-zinc-400">
          <Link
            className="font-medium text-sky-700 underline dark:text-sky-400"
            href="/playground"
            data-testid="playground-link"
          >
            Open the playground
          </Link>{" "}
          for channels, private tokens, publishing, presence and resume, live; or{" "}
          <Link className="font-medium text-sky-700 underline dark:text-sky-400" href="/orders">
            a live page
          </Link>{" "}
          rendered on the server, then live with no gap; or{" "}
          <Link className="font-medium text-sky-700 underline dark:text-sky-400" href="/chat">
            a chat
          </Link>{" "}
          whose AI answers survive reloads and other tabs.
        </p>
        <DocsLinks
          files={["README.md", "docs/guide/publish-and-listen.md", "docs/from-flask-sse.md"]}
        />
      </header>
      <Quickstart streamUrl={streamUrl} />
      <PrivateChannel streamUrl={privateUrl} channel={PRIVATE_DEMO_CHANNEL} token={token} />
      <AccountChannel sub={session?.sub} />
    </main>
  );
}
