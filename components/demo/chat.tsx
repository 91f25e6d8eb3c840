"use client";

import { useChat } from "@ai-sdk/react";
import { useState } from "react";

/** Text of a UI message. */
function textOf(parts: ReadonlyArray<{ type: string; text?: string }>): string {
  return parts.map((part) => (part.type === "text" ? (part.text ?? "") : "")).join("");
}

/**
 * The AI SDK's `useChat` with `resume: true`: on mount it asks `GET /api/chat/ID/stream` for
 * the chat's active answer. Stop asks the server to stop the answer for every viewer; the
 * client's own `stop()` would only close this tab's connection.
 */
export function Chat({ chatId }: { chatId: string }) {
  const { messages, sendMessage, status, error } = useChat({ id: chatId, resume: true });
  const [input, setInput] = useState("Tell me about resumable answers");
  const busy = status === "submitted" || status === "streaming";
  return (
    <section className="flex flex-col gap-4">
      <p className="text-sm text-zinc-500" data-testid="chat-status" data-status={status}>
        {status}
        {error && ` (${error.message})`}
      </p>
      <ol className="flex flex-col gap-3">
        {messages.map((message) => (
          <li
            key={message.id}
            data-testid={`chat-${message.role}`}
            className={message.role === "user" ? "font-medium" : "text-zinc-700 dark:text-zinc-300"}
          >
            {textOf(message.parts)}
          </li>
        ))}
      </ol>
      <form
        className="flex gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          if (input.trim() === "" || busy) return;
          void sendMessage({ text: input });
        }}
      >
        <input
          name="prompt"
          value={input}
          onChange={(event) => setInput(event.target.value)}
          className="flex-1 rounded border px-2 py-1"
        />
        <button
          type="submit"
          disabled={busy}
          className="rounded bg-zinc-900 px-3 py-1.5 text-white dark:bg-zinc-100 dark:text-zinc-900"
        >
          Send
        </button>
        <button
          type="button"
          onClick={() => void fetch(`/api/chat/${chatId}/stop`, { method: "POST" })}
          className="rounded border px-3 py-1.5"
        >
          Stop
        </button>
      </form>
    </section>
  );
}
