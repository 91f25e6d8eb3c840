import { afterEach, describe, expect, it } from "vitest";
import { corsHeaders, preflight } from "@/lib/access/cors";
import { resetSingletons } from "@/lib/ops/singleton";

const from = (origin: string) => new Request("http://app.example/stream", { headers: { origin } });

function withOrigins(value: string) {
  process.env.SSE_CORS_ORIGINS = value;
  resetSingletons("config");
}

describe("CORS", () => {
  afterEach(() => {
    delete process.env.SSE_CORS_ORIGINS;
    resetSingletons("config");
  });

  it("gives a listed origin its own name, with credentials", () => {
    withOrigins("https://site.example");
    expect(corsHeaders(from("https://site.example"))).toEqual({
      "Access-Control-Allow-Origin": "https://site.example",
      "Access-Control-Allow-Credentials": "true",
      Vary: "Origin",
    });
    expect(corsHeaders(from("https://evil.example"))).toEqual({});
  });

  it("treats * as a literal * without credentials: no site reads what a cookie opened", () => {
    withOrigins("*, https://site.example");
    expect(corsHeaders(from("https://evil.example"))).toEqual({
      "Access-Control-Allow-Origin": "*",
    });
    expect(corsHeaders(from("https://site.example"))["Access-Control-Allow-Credentials"]).toBe(
      "true",
    );
    const answer = preflight(from("https://evil.example"), "GET");
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
    expect(answer.headers.get("access-control-allow-credentials")).toBeNull();
  });
});
