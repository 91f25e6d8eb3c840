import { expect, type Page, test } from "@playwright/test";
import { publishViaApi, TEST_PUBLISH_TOKEN, testEnv, uniqueChannel } from "../support/env";

// A page holds the quickstart's public channel and a login-gated one (`user-<name>`, opened
// by the session cookie in an app rule): in one shared stream, as the client groups them.
// When the login goes away, only the gated channel's listeners hear of it.

async function signIn(page: Page, name: string): Promise<void> {
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account")).toHaveAttribute("data-channel", `user-${name}`);
  await expect(page.getByTestId("account").getByTestId("panel-status")).toHaveAttribute(
    "data-status",
    "open",
  );
}

function watchDialogs(page: Page): string[] {
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.accept().catch(() => {});
  });
  return dialogs;
}

/** The quickstart on a channel of its own (other tests greet on `sse`), signed in as `who`. */
async function quickstartSignedIn(page: Page, who: string) {
  const base = testEnv("APP_URL");
  const channel = uniqueChannel("qs");
  const name = `${who}-${Date.now().toString(36)}`;
  const dialogs = watchDialogs(page);
  await page.goto(`${base}/?channel=${channel}`);
  await expect(page.getByTestId("stream-status")).toHaveAttribute("data-status", "open");
  await signIn(page, name);
  return { base, channel, name, dialogs };
}

const greet = (channel: string, n: number) =>
  publishViaApi({ channel, type: "greeting", data: { message: `Hello ${n}!` } });

test("the login goes away: the gated channel closes with the server's code, the quickstart gets every event once", async ({
  page,
  context,
}) => {
  const { base, channel, name, dialogs } = await quickstartSignedIn(page, "alice");
  await greet(channel, 1);
  await publishViaApi({ channel: `user-${name}`, data: "for you" });
  await expect(page.getByTestId("event")).toHaveCount(1);
  await expect(page.getByTestId("account-event")).toHaveText(["for you"]);

  // The login goes away: the cookie is gone and the session is revoked on every instance.
  await context.clearCookies();
  const loggedOut = Date.now();
  const ended = await fetch(`${base}/api/disconnect`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TEST_PUBLISH_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ sub: name }),
  });
  expect(ended.status).toBe(200);
  await greet(channel, 2);
  await expect(page.getByTestId("event")).toHaveCount(2);
  // The rest reconnect on their own stream, resuming where they were. How soon is a figure
  // (a loaded machine reads over a second), not an assertion.
  console.info(`[access-groups] greeting 2 shown ${Date.now() - loggedOut} ms after the logout`);
  const account = page.getByTestId("account");
  await expect(account.getByTestId("panel-status")).toHaveAttribute("data-status", "closed");
  await expect(account).toHaveAttribute("data-error-code", "login_required");
  await greet(channel, 3);
  await expect(page.getByTestId("event")).toHaveCount(3);
  await expect(page.getByTestId("stream-status")).toHaveAttribute("data-status", "open");
  expect(dialogs).toEqual([
    "The server says Hello 1!",
    "The server says Hello 2!",
    "The server says Hello 3!",
  ]);
});

test("signing out ends the user's stream on the server; the quickstart beside it goes on", async ({
  page,
}) => {
  const { channel, dialogs } = await quickstartSignedIn(page, "bob");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  // The old cookie no longer opens the channel, from any tab or device.
  await greet(channel, 1);
  await expect(page.getByTestId("event")).toHaveCount(1);
  await expect(page.getByTestId("stream-status")).toHaveAttribute("data-status", "open");
  expect(dialogs).toEqual(["The server says Hello 1!"]);
});
