/** The private channel the demo page subscribes to with a server-minted token. */
export const PRIVATE_DEMO_CHANNEL = "private-demo";
