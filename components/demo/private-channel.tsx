"use client";

import { useEffect, useRef, useState, useTransition } from "react";
import { refreshDemoToken, sendPrivateGreeting } from "@/components/demo/actions";
import { useChannelMembers } from "@/components/use-channel-members";
import { useEventSource } from "@/components/use-event-source";

/**
 * A private channel: the page's server component minted a token for it, so this stream
 * opens; without one the server answers 401 and the panel shows why. The token goes in an
 * Authorization header; when it expires, a Server Action mints a fresh one and the stream
 * resumes where it was.
 */
export function PrivateChannel({
  streamUrl,
  channel,
  token,
}: {
  streamUrl: string;
  channel: string;
  /** The page's token: the publish action checks it as the stream does. */
  token: string | undefined;
}) {
  const [messages, setMessages] = useState<string[]>([]);
  const [pending, startTransition] = useTransition();
  // The render's token first; after that (it expired, or was refused), a fresh one, which
  // the publish button then uses too.
  const latest = useRef(token);
  const renderTokenUsed = useRef(false);
  // Members events go to the members list, which reads itself again when the stream opens.
  const toMembers = useRef<(data: unknown) => void>(() => {});
  const { status, error } = useEventSource(streamUrl, {
    events: {
      greeting: (data) => setMessages((m) => [data.message, ...m].slice(0, 20)),
      members: (data) => toMembers.current(data),
    },
    getToken:
      token === undefined
        ? undefined
        : async () => {
            if (!renderTokenUsed.current) {
              renderTokenUsed.current = true;
              return latest.current ?? null;
            }
            const fresh = await refreshDemoToken(channel);
            if (fresh !== null) latest.current = fresh;
            return fresh;
          },
  });
  const { members, onMembers } = useChannelMembers(channel, status, () => latest.current);
  useEffect(() => {
    toMembers.current = onMembers;
  }, [onMembers]);
  return (
    <section
      aria-label="Private channel"
      className="rounded-xl border border-zinc-200 bg-white p-5 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex items-center justify-between gap-4">
        <h2 className="font-semibold">
          Private channel <code className="font-mono text-sm">{channel}</code>
        </h2>
        <span data-testid="private-status" data-status={status} className="text-sm font-medium">
          {status}
        </span>
      </div>
      {error && (
        <p
          role="alert"
          data-testid="private-error"
          className="mt-2 text-sm text-rose-700 dark:text-rose-300"
        >
          {error}
        </p>
      )}
      <button
        type="button"
        disabled={pending || status !== "open"}
        onClick={() =>
          startTransition(() => sendPrivateGreeting(latest.current ?? "").then(() => undefined))
        }
        className="mt-3 rounded-lg bg-zinc-900 px-3 py-1.5 text-sm font-medium text-white disabled:opacity-40 dark:bg-zinc-100 dark:text-zinc-900"
      >
        Publish a private greeting
      </button>
      {status === "open" && (
        <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">
          Here now (<code className="font-mono">members=1</code>):{" "}
          <span data-testid="private-members">
            {members.map((member, i) => (
              <span key={member.sub} data-testid="private-member">
                {i > 0 && ", "}
                {String(member.info?.name ?? member.sub)}
              </span>
            ))}
          </span>
        </p>
      )}
      <ul data-testid="private-log" className="mt-3 space-y-1 font-mono text-sm">
        {messages.map((message, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: an append-only log
          <li key={`${messages.length - i}`} data-testid="private-event">
            {message}
          </li>
        ))}
      </ul>
    </section>
  );
}
