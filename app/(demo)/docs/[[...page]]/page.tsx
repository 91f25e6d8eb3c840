import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { connection } from "next/server";
import { Markdown } from "@/components/demo/markdown";
import { getConfig } from "@/lib/config";

export const metadata: Metadata = { title: "next-sse docs" };

const PAGE = /^[a-z0-9-]+$/;

/**
 * The repository's README and `docs/` as pages of the demo, so its pages can link to what
 * they illustrate on any clone (the files are the source: GitHub shows the same text).
 */
export default async function DocsPage({ params }: { params: Promise<{ page?: string[] }> }) {
  await connection();
  if (!getConfig().demo) notFound();
  const { page = [] } = await params;
  if (page.length > 2 || !page.every((part) => PAGE.test(part))) notFound();
  const file = page.length === 0 ? "README.md" : `docs/${page.join("/")}.md`;
  const text = await readFile(join(process.cwd(), file), "utf8").catch(() => notFound());
  return (
    <main className="mx-auto flex max-w-3xl flex-col gap-4 px-4 py-12">
      <nav className="flex gap-4 text-sm text-zinc-500">
        <a href="/" className="underline">
          ← quickstart
        </a>
        <a href="/docs" className="underline">
          README
        </a>
        <span>
          <code>{file}</code>
        </span>
      </nav>
      <article>
        <Markdown text={text} page={file} />
      </article>
    </main>
  );
}
