import { type NextRequest, NextResponse } from "next/server";

/**
 * Next.js decodes a dynamic path segment before a route handler runs, and answers a
 * malformed one (`/api/channels/%ZZ`) with a bare 500. Refuse it here with the JSON 400
 * every other bad channel gets.
 */
export function proxy(request: NextRequest): NextResponse | undefined {
  try {
    decodeURIComponent(request.nextUrl.pathname);
    return undefined;
  } catch {
    return NextResponse.json(
      {
        error: {
          code: "invalid_channel",
          message: "the channel in the path is not valid percent-encoding",
        },
      },
      { status: 400 },
    );
  }
}

export const config = { matcher: "/api/channels/:name*" };
