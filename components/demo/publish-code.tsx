/** What the playground's form holds: the event a person is about to publish. */
export interface PublishDraft {
  channel: string;
  type: string;
  data: string;
}

export function readDraft(form: FormData): PublishDraft {
  return {
    channel: String(form.get("channel") ?? ""),
    type: String(form.get("type") ?? "").trim(),
    data: String(form.get("data") ?? ""),
  };
}

/**
 * The code that publishes the draft, from server code and over HTTP: the same event the
 * form's Server Action publishes. The data is shown as typed; the server checks it.
 */
export function publishCode({ channel, type, data }: PublishDraft): {
  server: string;
  http: string;
} {
  const options = type
    ? `{ channel: ${JSON.stringify(channel)}, type: ${JSON.stringify(type)} }`
    : `{ channel: ${JSON.stringify(channel)} }`;
  const body = `{"channel":${JSON.stringify(channel)},${type ? `"type":${JSON.stringify(type)},` : ""}"data":${compact(data)}}`;
  return {
    server: [
      'import { publish } from "@/lib/features/publish";',
      "",
      `await publish(${data.trim() || "null"}, ${options});`,
    ].join("\n"),
    http: [
      "curl -X POST http://localhost:3000/api/publish \\",
      '  -H "Authorization: Bearer $SSE_PUBLISH_TOKEN" -H "Content-Type: application/json" \\',
      `  -d '${body.replaceAll("'", "'\\''")}'`,
    ].join("\n"),
  };
}

/** JSON on one line when it parses; else as typed (the server will name the problem). */
function compact(data: string): string {
  try {
    return JSON.stringify(JSON.parse(data));
  } catch {
    return data.trim();
  }
}

/** The draft's code, shown under the form. */
export function PublishCode({ draft }: { draft: PublishDraft }) {
  const { server, http } = publishCode(draft);
  return (
    <details className="mt-3 text-xs" open>
      <summary className="cursor-pointer text-zinc-500">The code that publishes this</summary>
      <pre
        data-testid="pg-code"
        className="mt-2 overflow-x-auto rounded bg-zinc-900 p-3 text-zinc-100"
      >
        {`// Server code (route handler, Server Action, job): what this form's action does\n${server}\n\n# Or over HTTP (SSE_PUBLISH_TOKEN turns the publish API on)\n${http}`}
      </pre>
    </details>
  );
}
