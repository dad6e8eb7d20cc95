/// <reference types="vitest/config" />
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

// Prints the JavaScript a first visit loads (the entry chunk and its static imports, before
// gzip) and fails the build past the budget, so the meeting and admin code stay lazy.
const initialBudget = 250 * 1024;
function initialScriptSize(): Plugin {
  return {
    name: 'parley-initial-script-size',
    apply: 'build',
    generateBundle(_opts, bundle) {
      const chunks = Object.values(bundle).filter((c) => c.type === 'chunk');
      const byName = new Map(chunks.map((c) => [c.fileName, c]));
      const seen = new Set<string>();
      const visit = (name: string) => {
        const c = byName.get(name);
        if (!c || seen.has(name)) return;
        seen.add(name);
        c.imports.forEach(visit);
      };
      chunks.filter((c) => c.isEntry).forEach((c) => visit(c.fileName));
      const bytes = [...seen].reduce((n, f) => n + Buffer.byteLength(byName.get(f)!.code), 0);
      const line = `initial script: ${(bytes / 1024).toFixed(1)} KB before gzip in ${seen.size} file(s) (budget ${initialBudget / 1024} KB)`;
      if (bytes > initialBudget) this.error(`${line}: over budget; load the new code lazily (see App.tsx)`);
      console.log(`\n${line}`);
    },
  };
}

// Background blur's MediaPipe runtime (wasm and its loader, from @mediapipe/tasks-vision) goes
// into the build under a fixed, versioned name: MediaPipe asks for the files by name beside each
// other, and the version in the folder lets them be cached like the hashed assets. Only the
// SIMD build: every browser that runs the meeting supports wasm SIMD, and the other would add
// 9 MB to the binary.
const tasksVision = fileURLToPath(new URL('./node_modules/@mediapipe/tasks-vision/', import.meta.url));
const tasksVisionVersion = (JSON.parse(readFileSync(join(tasksVision, 'package.json'), 'utf8')) as { version: string }).version;
function mediapipeRuntime(): Plugin {
  return {
    name: 'parley-mediapipe-runtime',
    apply: 'build',
    generateBundle() {
      for (const f of ['vision_wasm_internal.js', 'vision_wasm_internal.wasm']) {
        this.emitFile({ type: 'asset', fileName: `assets/mediapipe-${tasksVisionVersion}/${f}`, source: readFileSync(join(tasksVision, 'wasm', f)) });
      }
    },
  };
}

// No React plugin is needed: esbuild/oxc compiles TSX with the automatic JSX runtime.
// The dev server proxies the API to a Parley running on :8080 (PARLEY_DEV_API to change it).
const api = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.PARLEY_DEV_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic' } },
  plugins: [initialScriptSize(), mediapipeRuntime()],
  define: { __MEDIAPIPE_VERSION__: JSON.stringify(tasksVisionVersion) },

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
