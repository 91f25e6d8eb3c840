import { expect, test } from "@playwright/test";
import { type AppCopy, copyApp, type PersonProcess, runAsPerson } from "../support/app-copy";
import { getFreePort } from "../support/ports";

// `npm run dev` runs React in Strict Mode (`reactStrictMode: true`): every component mounts,
// unmounts and mounts again. The hook must still open one stream for the page, and nothing
// it does during a render may show up as a React error.

let copy: AppCopy | undefined;
let dev: PersonProcess | undefined;
test.afterEach(() => {
  dev?.kill();
  copy?.remove();
});

test("under React Strict Mode, three panels on three channels open one stream", async ({
  page,
}) => {
  test.setTimeout(180_000);
  copy = copyApp("source");
  const port = await getFreePort();
  copy.write(".env.local", `PORT=${port}\nHOSTNAME=127.0.0.1\n`);
  dev = runAsPerson(copy.dir, "npm", ["run", "dev"]);
  await dev.waitFor(/dev server on/, 120_000);
  const base = `http://127.0.0.1:${port}`;
  const errors: string[] = [];
  page.on("console", (message) => {
    // React's own errors and warnings (a missing favicon's 404 is the browser's, not ours).
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      errors.push(message.text());
    }
  });
  await page.goto(`${base}/panels?channel=a&channel=b&channel=c`, { timeout: 120_000 });
  const statuses = page.getByTestId("panel-status");
  await expect(statuses).toHaveCount(3);
  for (const status of await statuses.all()) {
    await expect(status).toHaveAttribute("data-status", "open", { timeout: 60_000 });
  }
  const metrics = await (await fetch(`${base}/api/metrics`)).text();
  expect(metrics).toMatch(/^sse_streams_opened_total 1$/m);
  expect((await (await fetch(`${base}/api/health`)).json()).streams).toBe(1);
  expect(errors).toEqual([]);
});
