import Link from "next/link";
import { docsHref } from "@/components/demo/markdown";

/** The docs pages a demo page illustrates (shown by the demo itself: `/docs/...`). */
export function DocsLinks({ files }: { files: readonly string[] }) {
  return (
    <p className="flex flex-wrap gap-x-3 text-sm text-zinc-500" data-testid="docs-links">
      <span>Read:</span>
      {files.map((file) => (
        <Link key={file} href={docsHref(file) ?? "/docs"} className="underline">
          {file}
        </Link>
      ))}
    </p>
  );
}
