"use server";

import { headers } from "next/headers";
import { ORDERS_CHANNEL } from "@/components/demo/channels";
import { authorizeDemoPublish } from "@/components/demo/fences";
import { publishRequest } from "@/lib/features/publish";

/** What the order form gets back. */
export type OrderFormState =
  | { ok: true; id: string | undefined }
  | { ok: false; error: string }
  | null;

/**
 * The live page's publisher: a Server Action, fenced like the demo's others (demo on, its
 * channel only, rate-limited). The order is checked against the channel's declaration
 * (`lib/channels.ts`), so a bad quantity comes back as the schema's message.
 */
export async function placeOrder(
  _previous: OrderFormState,
  form: FormData,
): Promise<OrderFormState> {
  const item = String(form.get("item") ?? "").trim();
  const qtyText = String(form.get("qty") ?? "").trim();
  // A number when it reads as one; otherwise as typed, for the declaration to refuse.
  const qty = qtyText !== "" && Number.isFinite(Number(qtyText)) ? Number(qtyText) : qtyText;
  try {
    await authorizeDemoPublish(await headers(), ORDERS_CHANNEL, [ORDERS_CHANNEL]);
    const { events } = await publishRequest({
      channel: ORDERS_CHANNEL,
      type: "order",
      data: { item, qty },
    });
    return { ok: true, id: events[0].id };
  } catch (error) {
    const { name, code, message } = error as { name?: unknown; code?: unknown; message: string };
    if (name === "HttpError" || name === "SseInputError" || code === "broker_unavailable") {
      return { ok: false, error: message };
    }
    throw error;
  }
}
