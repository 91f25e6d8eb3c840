"use server";

import { BrokerUnavailableError } from "@/lib/server/broker";
import { publishEvent } from "@/lib/server/publish";
import { SseInputError } from "@/lib/sse/encode";
import { describeIssue, publishRequestSchema } from "@/lib/sse/publish-request";

/** What the playground's publish form gets back. */
export type PublishFormState =
  | { ok: true; id: string | undefined; receivers: number }
  | { ok: false; error: string }
  | null;

/**
 * The playground's publisher: a Server Action, so publishing needs no token in the browser.
 * Validates like the publish API and answers the server's message for bad input.
 */
export async function publishFromPlayground(
  _previous: PublishFormState,
  form: FormData,
): Promise<PublishFormState> {
  let data: unknown;
  try {
    data = JSON.parse(String(form.get("data") ?? ""));
  } catch {
    return { ok: false, error: "data: not valid JSON (strings need quotes)" };
  }
  const type = String(form.get("type") ?? "").trim();
  const parsed = publishRequestSchema().safeParse({
    channel: String(form.get("channel") ?? ""),
    data,
    ...(type ? { type } : {}),
  });
  if (!parsed.success) return { ok: false, error: describeIssue(parsed.error).message };
  try {
    const result = await publishEvent(parsed.data.data, {
      channel: parsed.data.channel,
      type: parsed.data.type,
    });
    return { ok: true, id: result.id, receivers: result.receivers };
  } catch (error) {
    if (error instanceof SseInputError || error instanceof BrokerUnavailableError) {
      return { ok: false, error: error.message };
    }
    throw error;
  }
}
