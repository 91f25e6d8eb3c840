"use server";

import { isBrokerUnavailable } from "@/lib/server/broker";
import { publishRequest } from "@/lib/server/publish";

/** What the playground's publish form gets back. */
export type PublishFormState =
  | { ok: true; id: string | undefined; receivers: number }
  | { ok: false; error: string }
  | null;

/**
 * The playground's publisher: a Server Action, so publishing needs no token in the browser.
 * Validated as the publish API validates (one parser, the configured limits).
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
  try {
    const { events } = await publishRequest({
      channel: String(form.get("channel") ?? ""),
      data,
      ...(type ? { type } : {}),
    });
    return { ok: true, id: events[0].id, receivers: events[0].receivers };
  } catch (error) {
    const name = (error as { name?: unknown }).name;
    if (name === "SseInputError" || isBrokerUnavailable(error)) {
      return { ok: false, error: (error as Error).message };
    }
    throw error;
  }
}
