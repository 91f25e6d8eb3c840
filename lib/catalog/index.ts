import "server-only";
import type { Catalog } from "@/lib/catalog/catalog";
import type { ChannelDeclaration } from "@/lib/catalog/declaration";
import { channels } from "@/lib/channels";
import type { HistoryOptions } from "@/lib/history/types";

export { ChannelDeclarationError, type ChannelRules } from "@/lib/catalog/catalog";

/**
 * The app's declaration (`lib/channels.ts`). Read through this function, not kept: under
 * `npm run dev` an edit reloads the modules that import it, so the next request sees it.
 */
export function getCatalog(): Catalog {
  return channels;
}

/** The history bounds of a channel: its declaration's, over the global ones. */
export function historyBounds(
  declared: ChannelDeclaration["history"],
  global: HistoryOptions,
): HistoryOptions | undefined {
  if (declared === undefined) return undefined;
  return { ...global, ...declared };
}
