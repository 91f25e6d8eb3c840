import type { ReactNode } from "react";
import { DocsLinks } from "@/components/demo/docs-links";

/** The head of a demo page past the quickstart: the way back, its title, what it shows, its docs. */
export function DemoHeader({
  title,
  docs,
  children,
}: {
  title: string;
  docs: readonly string[];
  children: ReactNode;
}) {
  return (
    <header className="flex flex-col gap-2">
      <a href="/" className="text-sm text-zinc-500 underline">
        ← quickstart
      </a>
      <h1 className="text-3xl font-bold tracking-tight">{title}</h1>
      <p className="text-zinc-600 dark:text-zinc-400">{children}</p>
      <DocsLinks files={docs} />
    </header>
  );
}
