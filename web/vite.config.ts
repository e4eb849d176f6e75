import { resolve } from "node:path";
import { defineConfig } from "vite";

// The dashboard: a static site (S3/CloudFront in AWS, served by `npm start` locally). It talks to the
// platform only through the public API; VITE_API_URL / VITE_WS_URL point it at a deployed API
// (unset: same origin, as served locally).
export default defineConfig({
  root: import.meta.dirname,
  build: {
    outDir: resolve(import.meta.dirname, "dist"),
    emptyOutDir: true,
    // The API reference page bundles Swagger UI (~1.6 MB, loaded on /docs/ only).
    chunkSizeWarningLimit: 1700,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, "index.html"),
        docs: resolve(import.meta.dirname, "docs/index.html"),
      },
    },
  },
});
