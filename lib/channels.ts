import { z } from "zod";
import { defineChannels } from "@/lib/catalog/catalog";

/**
 * Your app's channels, declared once: names or patterns (`orders`, `private-user-*`,
 * `chat.*`, `*`), each with its event types and a schema per type, and its rules (see
 * `ChannelDeclaration`). `publish`, `useEventSource`, `readHistory`, `readLatest` and
 * `subscribe()` are typed from here, and the server validates every publish against it.
 * What a pattern leaves out is the global setting (SSE_*), and `"*": {}` keeps every other
 * channel as it always was. A change applies under `npm run dev` without a restart.
 */
export const channels = defineChannels({
  // The Flask-SSE quickstart's channel: `greeting` is typed and checked; other types pass.
  sse: {
    events: { greeting: z.object({ message: z.string() }) },
    strict: false,
  },
  // A feed rendered on the server, then live (the demo's /orders page).
  orders: {
    events: {
      order: z.object({
        item: z.string().min(1).max(100),
        qty: z.number().int().positive(),
      }),
    },
    history: { keepLast: 50 },
    maxRewind: 50,
  },
  // A value whose newest state every new page needs first: cache mode.
  "status.*": {
    events: {
      status: z.object({ state: z.enum(["up", "degraded", "down"]), note: z.string().optional() }),
    },
    cache: true,
  },
  // Published by your server code only (publish(), Server Actions): the publish API refuses.
  "internal.*": { publish: "server" },
  "*": {},
});
