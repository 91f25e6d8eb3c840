"use server";

import { headers } from "next/headers";
import { PLAYGROUND_CHANNELS } from "@/components/demo/channels";
import { authorizeDemoPublish } from "@/components/demo/fences";
import { publishRequest } from "@/lib/features/publish";

/** What the playground's publish form gets back. */
export type PublishFormState =
  | { ok: true; id: string | undefined; receivers: number }
  | { ok: false; error: string }
  | null;

/**
 * The playground's publisher: a Server Action, so publishing needs no publish token in the
 * browser. A public endpoint all the same: the playground's channels only (its private one
 * with the page's token), the publish API's schema and size limit, the demo's rate limit.
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
  const channel = String(form.get("channel") ?? "");
  const type = String(form.get("type") ?? "").trim();
  const token = form.get("token");
  try {
    await authorizeDemoPublish(
      await headers(),
      channel,
      PLAYGROUND_CHANNELS,
      typeof token === "string" && token !== "" ? token : undefined,
    );
    const { events } = await publishRequest({ channel, data, ...(type ? { type } : {}) });
    return { ok: true, id: events[0].id, receivers: events[0].receivers };
  } catch (error) {
    const { name, code, message } = error as { name?: unknown; code?: unknown; message: string };
    // Refusals and bad input the form can show; anything else is a bug and is rethrown.
    if (name === "HttpError" || name === "SseInputError" || code === "broker_unavailable") {
      return { ok: false, error: message };
    }
    throw error;
  }
}
