/** @type {import('next').NextConfig} */
const nextConfig = {
  // ioredis is plain Node: load it from node_modules instead of bundling it.
  serverExternalPackages: ["ioredis"],
  // Streams must not be gzipped: compression buffers events until a chunk fills.
  compress: false,
  poweredByHeader: false,
};

module.exports = nextConfig;
