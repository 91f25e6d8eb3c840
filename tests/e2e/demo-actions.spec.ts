import { expect, type Page, test } from "@playwright/test";
import { mintTestToken, publishViaApi, STREAM_SERVERS, uniqueChannel } from "../support/env";
import { openStream } from "../support/sse-client";

// A Server Action is a public endpoint: its id is in the page's JavaScript, and anyone can
// POST to it with arguments of their choosing. These tests send the playground's and the
// quickstart's actions tampered requests, from the page itself, and check the server says no.

/**
 * Rewrites the body of the page's next Server Action request; resolves to the server's
 * answer (the page gets it too).
 */
async function tamperNextAction(
  page: Page,
  rewrite: (body: string) => string,
): Promise<{ answer: Promise<string> }> {
  let done = false;
  let answered: (text: string) => void = () => {};
  const answer = new Promise<string>((resolve) => {
    answered = resolve;
  });
  await page.route("**/*", async (route) => {
    const request = route.request();
    if (done || request.method() !== "POST" || request.headers()["next-action"] === undefined) {
      return route.continue();
    }
    done = true;
    const response = await route.fetch({ postData: rewrite(request.postData() ?? "") });
    answered(await response.text());
    return route.fulfill({ response });
  });
  // In an object: an async function returning a bare promise would wait for it.
  return { answer };
}

async function publishWithForm(page: Page, channel: string, data: string) {
  await page.locator('select[name="channel"]').selectOption(channel);
  await page.locator('textarea[name="data"]').fill(data);
  await page.getByRole("button", { name: "Publish" }).click();
}

for (const server of STREAM_SERVERS) {
  test.describe(server.name, () => {
    const base = server.url;
    test.beforeEach(async ({ page }) => {
      await page.goto(`${base()}/playground`);
      await expect(page.getByTestId("pg-status")).toHaveAttribute("data-status", "open");
    });

    test("the playground's action publishes to its own channels only", async ({ page }) => {
      const target = uniqueChannel("private-user");
      const watcher = await openStream(
        `${base()}/stream?channel=${target}&token=${mintTestToken([target], 60)}`,
      );
      await tamperNextAction(page, (body) =>
        body.replace(/\r\n\r\nnews\r\n/, `\r\n\r\n${target}\r\n`),
      );
      await publishWithForm(page, "news", '"forged"');
      await expect(page.getByTestId("pg-error")).toHaveText(
        "the demo publishes to news, chat, sse, private-playground only",
      );
      // The next event on that channel is ours: the forged one never got there.
      await publishViaApi({ channel: target, data: "marker" });
      expect((await watcher.waitForEvents(1)).map((e) => e.data)).toEqual(["marker"]);
      watcher.close();
    });

    test("the playground's private channel needs the page's token, not any", async ({ page }) => {
      await tamperNextAction(page, (body) =>
        body.replace(/(name="[^"]*token"\r\n\r\n)[^\r]*/, `$1${mintTestToken(["other"], 60)}`),
      );
      await publishWithForm(page, "private-playground", '"no"');
      await expect(page.getByTestId("pg-error")).toHaveText(
        "the token does not grant channel private-playground",
      );
    });

    test("data over the publish API's size limit is refused, as by the API", async ({ page }) => {
      await publishWithForm(page, "news", JSON.stringify("x".repeat(70_000)));
      await expect(page.getByTestId("pg-error")).toContainText("over the limit of 65536");
    });

    test("the quickstart's private greeting needs the page's token", async ({ page }) => {
      await page.goto(`${base()}/`);
      await expect(page.getByTestId("private-status")).toHaveAttribute("data-status", "open");
      // The action's arguments travel as JSON: ["<token>"]. Send it without one.
      const { answer } = await tamperNextAction(page, () => JSON.stringify([""]));
      await page.getByRole("button", { name: "Publish a private greeting" }).click();
      expect(await answer).toContain("is private");
    });
  });
}
