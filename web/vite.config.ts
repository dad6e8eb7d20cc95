/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// No React plugin is needed: esbuild/oxc compiles TSX with the automatic JSX runtime.
// The dev server proxies the API to a Parley running on :8080 (PARLEY_DEV_API to change it).
const api = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.PARLEY_DEV_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      // React Router ships "use client" directives, meaningless in a SPA bundle.
      onwarn(w, warn) {
        if (w.code !== 'MODULE_LEVEL_DIRECTIVE') warn(w);
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: api, changeOrigin: false },
      '/healthz': api,
      '/readyz': api,
    },
  },
  test: { environment: 'jsdom', include: ['src/**/*.test.ts', 'src/**/*.test.tsx'] },
});
