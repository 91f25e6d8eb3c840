import Link from "next/link";
import type { ReactNode } from "react";

/**
 * The subset of Markdown the project's docs are written in (headings, paragraphs, lists,
 * tables, fenced code, `code`, **bold**, links), as React elements: no HTML is passed
 * through, so a page cannot inject any. Links between docs pages stay in the demo
 * (`/docs/...`); links to other repository files show their path.
 */
export function Markdown({ text, page }: { text: string; page: string }) {
  return <div className="space-y-3 text-sm leading-6">{blocks(text, page)}</div>;
}

const LIST_ITEM = /^\s*(?:[-*]|\d+\.) /;

function blocks(text: string, page: string): ReactNode[] {
  const lines = text.split("\n");
  const out: ReactNode[] = [];
  let i = 0;
  const key = () => `b${out.length}`;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === "") {
      i++;
    } else if (line.startsWith("```")) {
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i].startsWith("```"); i++) code.push(lines[i]);
      i++;
      out.push(
        <pre key={key()} className="overflow-x-auto rounded bg-zinc-900 p-3 text-xs text-zinc-100">
          <code>{code.join("\n")}</code>
        </pre>,
      );
    } else if (/^#{1,4} /.test(line)) {
      const level = line.indexOf(" ");
      const content = inline(line.slice(level + 1), page);
      const size = ["text-2xl", "text-xl", "text-lg", "text-base"][level - 1];
      const Heading = (["h1", "h2", "h3", "h4"] as const)[level - 1];
      out.push(
        <Heading key={key()} className={`${size} mt-4 font-semibold`}>
          {content}
        </Heading>,
      );
      i++;
    } else if (line.startsWith("|")) {
      const rows: string[][] = [];
      for (; i < lines.length && lines[i].startsWith("|"); i++) {
        if (/^\|[\s:|-]+\|$/.test(lines[i])) continue;
        rows.push(lines[i].slice(1, -1).split("|"));
      }
      const [head, ...body] = rows;
      const cells = (row: string[], Cell: "th" | "td") =>
        row.map((cell, c) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: static text, never reordered
          <Cell key={c} className="border-b px-2 py-1 align-top">
            {inline(cell.trim(), page)}
          </Cell>
        ));
      out.push(
        <div key={key()} className="overflow-x-auto">
          <table className="text-left text-xs">
            <thead>
              <tr>{cells(head, "th")}</tr>
            </thead>
            <tbody>
              {body.map((row, r) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: static text, never reordered
                <tr key={r}>{cells(row, "td")}</tr>
              ))}
            </tbody>
          </table>
        </div>,
      );
    } else if (LIST_ITEM.test(line)) {
      const items: string[] = [];
      for (; i < lines.length && lines[i].trim() !== "" && !lines[i].startsWith("```"); i++) {
        if (LIST_ITEM.test(lines[i])) items.push(lines[i].replace(LIST_ITEM, ""));
        else items[items.length - 1] += ` ${lines[i].trim()}`;
      }
      out.push(
        <ul key={key()} className="list-disc space-y-1 pl-6">
          {items.map((item, n) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: static text, never reordered
            <li key={n}>{inline(item, page)}</li>
          ))}
        </ul>,
      );
    } else {
      const para: string[] = [];
      for (; i < lines.length && lines[i].trim() !== "" && !/^(```|#|\|)/.test(lines[i]); i++) {
        para.push(lines[i]);
      }
      out.push(<p key={key()}>{inline(para.join(" "), page)}</p>);
    }
  }
  return out;
}

const INLINE = /`([^`]+)`|\*\*([^*]+)\*\*|(!?)\[([^\]]+)\]\(([^)\s]+)\)/g;

function inline(text: string, page: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    const at = match.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const key = `${at}`;
    if (match[1] !== undefined) {
      out.push(
        <code key={key} className="rounded bg-zinc-100 px-1 text-xs dark:bg-zinc-800">
          {match[1]}
        </code>,
      );
    } else if (match[2] !== undefined) {
      out.push(<strong key={key}>{inline(match[2], page)}</strong>);
    } else if (match[3] === "!" && match[5].startsWith("public/")) {
      // The app serves `public/` at its root: a screenshot the README shows.
      // biome-ignore lint/performance/noImgElement: a static file of the app, shown as it is
      out.push(<img key={key} src={match[5].slice("public".length)} alt={match[4]} />);
    } else {
      out.push(link(key, match[4], match[5], page));
    }
    last = at + match[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function link(key: string, label: string, target: string, page: string): ReactNode {
  if (/^https?:/.test(target)) {
    return (
      <a key={key} href={target} className="underline">
        {label}
      </a>
    );
  }
  const [path, hash] = target.split("#");
  const resolved = new URL(path || page, `file:///${page}`).pathname.slice(1);
  const doc = docsHref(resolved);
  if (doc === undefined) return <code key={key}>{resolved}</code>;
  return (
    <Link key={key} href={hash ? `${doc}#${hash}` : doc} className="underline">
      {label}
    </Link>
  );
}

/** The demo's page for a Markdown file of the repository, if it shows one. */
export function docsHref(file: string): string | undefined {
  if (file === "README.md") return "/docs";
  const match = /^docs\/(.+)\.md$/.exec(file);
  return match === null ? undefined : `/docs/${match[1]}`;
}
