import { errorResponse } from "@/lib/server/http";
import { publish } from "@/lib/server/publish";

/** `GET /hello`: the quickstart's publisher. Sends a `greeting` on channel `sse`. */
export async function GET(): Promise<Response> {
  try {
    await publish({ message: "Hello!" }, { type: "greeting" });
    return new Response("Message sent!", {
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  } catch (error) {
    return errorResponse(error);
  }
}
