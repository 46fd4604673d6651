// Builds the console into dist/, which clients/web/embed.go embeds into the
// wormvault binary: `wormvault serve --http-listen` serves it at /console/
// under a Content-Security-Policy that allows scripts and styles only from
// files of the server's own origin. So the build emits no inline script or
// style (no module-preload polyfill, no inlined assets), and its file names
// carry content hashes so a rebuild of the same sources is byte-identical.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  base: "/console/",
  resolve: {
    alias: {
      // The API code generated once for all TypeScript clients.
      "@gen": here("../typescript/gen"),
    },
    // The generated files live outside this package; their imports of the
    // protobuf runtime must resolve to this package's copy.
    dedupe: ["@bufbuild/protobuf", "@connectrpc/connect"],
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
  },
  server: {
    // `npx vite` during development: the API on `make run`'s HTTP port.
    proxy: {
      "/wormvault.v1.": "http://127.0.0.1:7421",
      "/v1/": "http://127.0.0.1:7421",
    },
    fs: { allow: [here("."), here("../typescript/gen")] },
  },
});
