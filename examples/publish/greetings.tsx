"use client";
import { useEventSource } from "@/components/use-event-source";

export function Greetings({ toast }: { toast: (message: string) => void }) {
  const { status, error } = useEventSource("/stream?channel=sse", {
    events: { greeting: (data, { channel, id }) => console.log(data.message, channel, id) },
    onReset: () => window.location.reload(), // history could not fill a gap: load again
    onError: (message) => toast(message), // once per outage, not once per retry
  });
  return (
    <p>
      {status}
      {error && ` (${error})`}
    </p>
  );
}
