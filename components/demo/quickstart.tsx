"use client";

import { useState } from "react";
import { useEventSource } from "@/components/use-event-source";

interface LogEntry {
  key: number;
  at: string;
  type: string;
  data: string;
}

const MAX_LOG = 50;
const STATUS_STYLES: Record<string, string> = {
  connecting: "bg-amber-100 text-amber-900 dark:bg-amber-900/40 dark:text-amber-200",
  open: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/40 dark:text-emerald-200",
  reconnecting: "bg-amber-100 text-amber-900 dark:bg-amber-900/40 dark:text-amber-200",
  closed: "bg-rose-100 text-rose-900 dark:bg-rose-900/40 dark:text-rose-200",
};

/**
 * The Flask-SSE quickstart's index.html: an alert per `greeting`, an alert on error, plus
 * a panel with the connection status and the events received.
 */
export function Quickstart({ streamUrl }: { streamUrl: string }) {
  const [log, setLog] = useState<LogEntry[]>([]);
  const { status, attempt, retryAt } = useEventSource(streamUrl, {
    events: {
      greeting: (data, { type, event }) => {
        setLog((entries) =>
          [
            {
              key: (entries[0]?.key ?? 0) + 1,
              at: new Date().toLocaleTimeString(),
              type,
              data: event.data,
            },
            ...entries,
          ].slice(0, MAX_LOG),
        );
        alert(`The server says ${data.message}`);
      },
    },
    // Once per outage (the client keeps trying underneath), as Flask-SSE's page alerts once.
    onError: () => alert("Failed to connect to event stream. Is Redis running?"),
  });

  return (
    <section
      aria-label="Event stream"
      className="rounded-xl border border-zinc-200 bg-white p-5 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex items-center justify-between gap-4">
        <h2 className="font-semibold">Stream</h2>
        <span
          role="status"
          data-testid="stream-status"
          data-status={status}
          data-attempt={attempt}
          className={`rounded-full px-3 py-1 text-sm font-medium ${STATUS_STYLES[status]}`}
        >
          {status}
          {status === "reconnecting" && attempt > 0 && retryAt !== null
            ? ` (attempt ${attempt}, in ${Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))} s)`
            : ""}
        </span>
      </div>
      <p className="mt-1 font-mono text-xs text-zinc-500">{streamUrl}</p>
      <ol
        role="log"
        aria-label="Events received"
        data-testid="event-log"
        className="mt-4 space-y-2"
      >
        {log.length === 0 && (
          <li className="text-sm text-zinc-500">
            No events yet. Open{" "}
            <a className="underline" href="/hello" target="_blank" rel="noreferrer">
              /hello
            </a>{" "}
            in another tab.
          </li>
        )}
        {log.map((entry) => (
          <li
            key={entry.key}
            data-testid="event"
            data-type={entry.type}
            className="rounded-lg bg-zinc-50 px-3 py-2 font-mono text-sm dark:bg-zinc-800"
          >
            <span className="text-zinc-500">{entry.at}</span>{" "}
            <span className="font-semibold">{entry.type}</span> {entry.data}
          </li>
        ))}
      </ol>
    </section>
  );
}
