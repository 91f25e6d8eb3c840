const { PHASE_PRODUCTION_BUILD } = require("next/constants");

/** @type {(phase: string) => import('next').NextConfig} */
const nextConfig = (phase) => ({
  // ioredis is plain Node: load it from node_modules instead of bundling it.
  serverExternalPackages: ["ioredis"],
  // Streams must not be gzipped: compression buffers events until a chunk fills.
  compress: false,
  poweredByHeader: false,
  // Development mounts every component twice: the stream client must still open one stream.
  reactStrictMode: true,
  // The build also makes a self-contained deploy folder, .next/standalone, whose server.js
  // is ours (scripts/build-server.mjs). Only while building: `next start` (which still
  // serves the build) would otherwise warn that it does not run standalone output.
  output: phase === PHASE_PRODUCTION_BUILD ? "standalone" : undefined,
  // The demo shows the docs it illustrates (/docs): the deploy folder carries them too.
  outputFileTracingIncludes: { "/docs/[[...page]]": ["./README.md", "./docs/**/*.md"] },
});

module.exports = nextConfig;
