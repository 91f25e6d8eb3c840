import { getCatalog } from "@/lib/catalog";
import { channelSchemas } from "@/lib/catalog/json-schema";
import { errorResponse } from "@/lib/http";

/**
 * `GET /api/channel-schema`: every declared channel pattern (`lib/channels.ts`) with the
 * JSON Schema of each event type's data, for publishers in other languages.
 */
export function GET(): Response {
  try {
    return Response.json({ channels: channelSchemas(getCatalog()) });
  } catch (error) {
    return errorResponse(error);
  }
}
