import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { expect, it } from "vitest";

// What a page downloads is part of the client's contract: the hook and the tab's side, not
// the connection (fetch transport, eventsource-parser, backoff), which only the place that
// holds the streams loads (the SharedWorker, a leader tab, or a lone tab, on demand).

/** Outputs `entry` imports statically, itself included. */
function staticClosure(outputs: Metafile["outputs"], entry: string): string[] {
  const seen = new Set<string>([entry]);
  for (const output of seen) {
    for (const { path, kind } of outputs[output].imports) {
      if (kind === "import-statement" && path in outputs) seen.add(path);
    }
  }
  return [...seen];
}

it("a page loads the hook and the tab's side; the connection and its parser come with the host", async () => {
  const result = await build({
    entryPoints: ["components/use-event-source.ts", "lib/client/stream-worker.ts"],
    bundle: true,
    minify: true,
    splitting: true,
    format: "esm",
    outdir: "/tmp/next-sse-bundle",
    write: false,
    metafile: true,
    external: ["react"],
    alias: { "@": "." },
    logLevel: "silent",
  });
  const { outputs } = result.metafile;
  const entry = Object.keys(outputs).find(
    (path) => outputs[path].entryPoint === "components/use-event-source.ts",
  ) as string;
  const page = staticClosure(outputs, entry);
  const inputs = page.flatMap((path) => Object.keys(outputs[path].inputs));
  expect(inputs).toContain("lib/client/hub.ts");
  expect(
    inputs.filter((input) =>
      /eventsource-parser|client\/(connection|backoff|host)\.ts/.test(input),
    ),
  ).toEqual([]);
  // Metafile paths are relative to the working directory; output files' are absolute.
  const names = new Set(page.map((path) => path.split("/").pop()));
  const gzipped = result.outputFiles
    .filter((file) => names.has(file.path.split("/").pop()))
    .reduce((sum, file) => sum + gzipSync(file.contents).byteLength, 0);
  console.info(`[bundle] a page's client code: ${(gzipped / 1024).toFixed(1)} kB gzipped`);
});
