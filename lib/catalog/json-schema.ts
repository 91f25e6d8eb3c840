import { z } from "zod";
import type { Catalog } from "@/lib/catalog/catalog";
import type { StandardSchemaV1 } from "@/lib/catalog/standard-schema";

/** One pattern as publishers in other languages see it. */
export interface ChannelSchema {
  pattern: string;
  /** Types not listed are refused (false: they pass unchecked). */
  strict: boolean;
  /** Event type -> the JSON Schema of its data; null when any type and data go. */
  events: Record<string, unknown> | null;
  /** Who may publish: the publish API too, or server code only. */
  publish: "api" | "server";
}

/**
 * The declaration as JSON Schema (draft 2020-12), for publishers that are not TypeScript
 * (a Python service publishing as it did with Flask-SSE). zod schemas convert exactly; a
 * schema from another library is described by its vendor, and the server still checks it.
 */
export function channelSchemas(catalog: Catalog): ChannelSchema[] {
  return catalog.all().map((rules) => ({
    pattern: rules.pattern,
    strict: rules.strict,
    publish: rules.publish,
    events:
      rules.events === undefined
        ? null
        : Object.fromEntries([...rules.events].map(([type, schema]) => [type, toJson(schema)])),
  }));
}

function toJson(schema: StandardSchemaV1): unknown {
  if (schema["~standard"].vendor === "zod") {
    return z.toJSONSchema(schema as unknown as z.ZodType, { io: "input", unrepresentable: "any" });
  }
  return { description: `checked by the server (${schema["~standard"].vendor}); no JSON Schema` };
}
