"use client";

import { useState } from "react";
import { useEventSource } from "@/components/use-event-source";

const MAX_EVENTS = 200;

/**
 * One channel's live events in a small panel. Several panels on one page (or in several
 * tabs) share one stream: see `useEventSource`.
 */
export function ChannelPanel({ channel }: { channel: string }) {
  const [events, setEvents] = useState<Array<{ id: string; text: string }>>([]);
  const add = (_data: unknown, meta: { id: string; event: { data: string } }) =>
    setEvents((list) => [...list, { id: meta.id, text: meta.event.data }].slice(-MAX_EVENTS));
  const { status, attempt, retryAt, error } = useEventSource(`/stream?channel=${channel}`, {
    events: { message: add, greeting: add },
  });
  return (
    <section
      aria-label={`Channel ${channel}`}
      data-testid="panel"
      data-channel={channel}
      className="rounded-xl border border-zinc-200 bg-white p-4 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex items-center justify-between gap-2">
        <h2 className="font-mono text-sm font-semibold">{channel}</h2>
        <StreamStatus status={status} attempt={attempt} retryAt={retryAt} error={error} />
      </div>
      <ol className="mt-3 space-y-1 font-mono text-xs">
        {events.map((event, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: an append-only log
          <li key={i} data-testid="panel-event" title={event.id}>
            {event.text}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** A stream's state as a person reads it: "reconnecting (attempt 3, in 4 s)". */
export function StreamStatus({
  status,
  attempt,
  retryAt,
  error,
}: {
  status: string;
  attempt: number;
  retryAt: number | null;
  error: string | null;
}) {
  const wait = retryAt === null ? null : Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  const detail =
    status === "reconnecting" && attempt > 0
      ? ` (attempt ${attempt}${wait === null ? "" : `, in ${wait} s`})`
      : "";
  return (
    <span
      role="status"
      data-testid="panel-status"
      data-status={status}
      data-attempt={attempt}
      title={error ?? undefined}
      className="text-xs font-medium text-zinc-600 dark:text-zinc-300"
    >
      {status}
      {detail}
    </span>
  );
}
