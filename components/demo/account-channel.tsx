"use client";

import { useActionState, useState } from "react";
import { signIn, signOut } from "@/components/demo/actions";
import { StreamStatus } from "@/components/demo/channel-panel";
import { useEventSource } from "@/components/use-event-source";

/**
 * The sign-in recipe, live: signed in, the page listens to the user's own `user-<name>`
 * channel, which an app rule in `authorize` opens by the session cookie (no token). Signing
 * out (or the session being revoked elsewhere) ends that stream; the quickstart's stream
 * beside it goes on.
 */
export function AccountChannel({ sub }: { sub: string | undefined }) {
  const [result, signInAction, pending] = useActionState(
    async (_: unknown, form: FormData) => signIn(form),
    undefined,
  );
  if (sub === undefined) {
    return (
      <section
        aria-label="Sign-in"
        className="rounded-xl border border-zinc-200 bg-white p-4 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
      >
        <h2 className="font-semibold">Your own channel</h2>
        <form action={signInAction} className="mt-3 flex gap-2">
          <input
            name="name"
            aria-label="Name"
            placeholder="alice"
            className="rounded-lg border border-zinc-300 px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-800"
          />
          <button
            type="submit"
            disabled={pending}
            className="rounded-lg bg-zinc-900 px-3 py-1.5 text-sm font-medium text-white dark:bg-zinc-100 dark:text-zinc-900"
          >
            Sign in
          </button>
        </form>
        {result?.error && <p className="mt-2 text-sm text-rose-700">{result.error}</p>}
      </section>
    );
  }
  return <SignedIn sub={sub} />;
}

function SignedIn({ sub }: { sub: string }) {
  const channel = `user-${sub}`;
  const [events, setEvents] = useState<string[]>([]);
  const { status, attempt, retryAt, error, errorCode } = useEventSource(
    `/stream?channel=${channel}`,
    { events: { message: (_data, { event }) => setEvents((list) => [...list, event.data]) } },
  );
  return (
    <section
      aria-label="Your channel"
      data-testid="account"
      data-channel={channel}
      data-error-code={errorCode ?? ""}
      className="rounded-xl border border-zinc-200 bg-white p-4 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex items-center justify-between gap-2">
        <h2 className="font-semibold">
          Signed in as {sub}: <span className="font-mono text-sm">{channel}</span>
        </h2>
        <StreamStatus status={status} attempt={attempt} retryAt={retryAt} error={error} />
      </div>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
        Opened by your session cookie, no token: an app rule in{" "}
        <code className="font-mono">lib/access/authorize.ts</code>. Signing out ends it on every
        instance; the stream above goes on.
      </p>
      <ol className="mt-3 space-y-1 font-mono text-xs">
        {events.map((text, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: an append-only log
          <li key={i} data-testid="account-event">
            {text}
          </li>
        ))}
      </ol>
      <form action={signOut} className="mt-3">
        <button type="submit" className="text-sm font-medium underline">
          Sign out
        </button>
      </form>
    </section>
  );
}
