"use client";

import { useEventSource } from "@/components/use-event-source";

/** A small live/offline badge. On the same URL as the panel, it shares its EventSource. */
export function StreamBadge({ streamUrl }: { streamUrl: string }) {
  const { status, lastEventId } = useEventSource(streamUrl, {});
  const live = status === "open";
  return (
    <span
      data-testid="stream-badge"
      data-status={status}
      title={lastEventId ? `last event ${lastEventId}` : undefined}
      className={`inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-medium ${
        live
          ? "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/40 dark:text-emerald-200"
          : "bg-zinc-200 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
      }`}
    >
      <span
        aria-hidden
        className={`h-1.5 w-1.5 rounded-full ${live ? "bg-emerald-500" : "bg-zinc-400"}`}
      />
      {live ? "live" : status}
    </span>
  );
}
