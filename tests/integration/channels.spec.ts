import { execFileSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import { publishViaApi, TEST_PUBLISH_TOKEN, testEnv, uniqueChannel } from "../support/env";

/** The app's declaration (`lib/channels.ts`) as the publish API and other languages see it. */

const errorOf = async (response: Response) => (await response.json()).error;

test("the publish API refuses undeclared types and invalid data with 400, naming the path", async () => {
  const typo = await publishViaApi({
    channel: "orders",
    type: "ordr",
    data: { item: "a", qty: 1 },
  });
  expect(typo.status).toBe(400);
  expect(await errorOf(typo)).toEqual({
    code: "invalid_type",
    message: 'type: "ordr" is not an event type of channel orders (declared: order)',
  });
  const bad = await publishViaApi({
    channel: "orders",
    type: "order",
    data: { item: "a", qty: "2" },
  });
  expect(bad.status).toBe(400);
  expect(await errorOf(bad)).toEqual({
    code: "invalid_data",
    message: "data.qty: Invalid input: expected number, received string",
  });
  // Several channels: published to all or none.
  const mixed = await publishViaApi({
    channels: [uniqueChannel(), "orders"],
    type: "order",
    data: { item: "a", qty: "2" },
  });
  expect(mixed.status).toBe(400);
  // A channel declared for server code only.
  const internal = await publishViaApi({ channel: `internal.${uniqueChannel()}`, data: 1 });
  expect(internal.status).toBe(403);
  expect((await errorOf(internal)).code).toBe("publish_forbidden");
  // Undeclared channels take anything, as before.
  expect((await publishViaApi({ channel: uniqueChannel(), type: "x", data: [1] })).status).toBe(
    200,
  );
});

const PYTHON_PUBLISHER = `
import json, sys, urllib.request, urllib.error
import jsonschema  # Debian: python3-jsonschema; else pip install jsonschema

base, token = sys.argv[1], sys.argv[2]
schemas = json.load(urllib.request.urlopen(base + "/api/channel-schema"))["channels"]
order_schema = next(c for c in schemas if c["pattern"] == "orders")["events"]["order"]

def publish(data):
    body = json.dumps({"channel": "orders", "type": "order", "data": data}).encode()
    request = urllib.request.Request(base + "/api/publish", data=body, headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + token})
    try:
        return urllib.request.urlopen(request).status
    except urllib.error.HTTPError as error:
        return error.code

def valid(data):
    try:
        jsonschema.validate(data, order_schema)
        return True
    except jsonschema.ValidationError:
        return False

good, bad = {"item": "from python", "qty": 3}, {"item": "from python", "qty": "3"}
print(json.dumps({
    "good": [valid(good), publish(good)],
    "bad": [valid(bad), publish(bad)],
}))
`;

test("a Python publisher validates an event against the channel's JSON Schema, and the server agrees", async () => {
  const schema = await (await fetch(`${testEnv("APP_URL")}/api/channel-schema`)).json();
  const orders = schema.channels.find((c: { pattern: string }) => c.pattern === "orders");
  expect(orders).toMatchObject({ strict: true, publish: "api" });
  expect(orders.events.order).toMatchObject({
    type: "object",
    properties: { qty: { type: "integer" } },
    required: ["item", "qty"],
  });
  const out = execFileSync(
    process.env.TEST_PYTHON ?? "/usr/bin/python3",
    ["-c", PYTHON_PUBLISHER, testEnv("APP_URL"), TEST_PUBLISH_TOKEN],
    { timeout: 20_000 },
  );
  expect(JSON.parse(out.toString())).toEqual({ good: [true, 200], bad: [false, 400] });
});
