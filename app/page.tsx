import { Quickstart } from "@/components/quickstart";

export default function HomePage() {
  return (
    <main className="mx-auto flex max-w-2xl flex-col gap-6 px-4 py-12">
      <header>
        <h1 className="text-3xl font-bold tracking-tight">next-sse Quickstart</h1>
        <p className="mt-2 text-zinc-600 dark:text-zinc-400">
          This page listens to <code className="font-mono">/stream</code>. Open{" "}
          <a className="font-medium underline" href="/hello" target="_blank" rel="noreferrer">
            /hello
          </a>{" "}
          in another tab: each visit publishes a <code className="font-mono">greeting</code> through
          Redis and this tab shows an alert.
        </p>
      </header>
      <Quickstart streamUrl="/stream" />
    </main>
  );
}
