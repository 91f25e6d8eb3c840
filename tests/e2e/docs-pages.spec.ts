import { expect, test } from "@playwright/test";
import { testEnv } from "../support/env";

// The demo's pages link to the docs they illustrate, which the demo shows from the
// repository's own Markdown (so the links work on any clone, with no site to host).
const PAGES: Array<[string, string, string]> = [
  ["/", "docs/guide/publish-and-listen.md", "Publish and listen"],
  [
    "/orders",
    "docs/guide/live-pages.md",
    "Live pages: rendered on the server, then live with no gap",
  ],
  ["/chat", "docs/guide/ai-answers.md", "Resumable AI answers"],
  ["/playground", "docs/guide/history.md", "History and resume"],
  ["/panels", "docs/guide/browser-client.md", "The browser client"],
];

for (const [path, file, heading] of PAGES) {
  test(`${path} links to ${file}, and the link shows it`, async ({ page }) => {
    await page.goto(`${testEnv("APP_URL")}${path}`);
    await page.getByTestId("docs-links").getByRole("link", { name: file }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
  });
}

test("a docs page's links lead to the other pages; its code is shown as written", async ({
  page,
}) => {
  await page.goto(`${testEnv("APP_URL")}/docs/guide/live-pages`);
  await expect(page.locator("pre").first()).toContainText("// examples/live-pages/page.tsx");
  await page.getByRole("link", { name: "README" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("next-sse");
  await page.getByRole("link", { name: "live pages" }).first().click();
  await expect(page).toHaveURL(/\/docs\/guide\/live-pages$/);
});

test("only the docs' own pages are shown", async ({ request }) => {
  for (const path of ["/docs/nope", "/docs/..%2Fpackage", "/docs/guide/..%2F..%2FREADME"]) {
    expect((await request.get(`${testEnv("APP_URL")}${path}`)).status(), path).toBe(404);
  }
});
