/** The private channel the demo page subscribes to with a server-minted token. */
export const PRIVATE_DEMO_CHANNEL = "private-demo";

/** The playground's private channel (the page mints a token for it). */
export const PRIVATE_PLAYGROUND_CHANNEL = "private-playground";

/** Channels the playground offers. */
export const PLAYGROUND_CHANNELS = ["news", "chat", "sse", PRIVATE_PLAYGROUND_CHANNEL];

/** The live page's feed: declared, typed and checked in `lib/channels.ts`. */
export const ORDERS_CHANNEL = "orders";
