import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          // Fast checks first; the end-to-end group runs after them.
          sequence: { groupOrder: 0 },
          include: ["packages/*/src/**/*.spec.ts", "native/src/**/*.spec.ts", "test/hub/src/**/*.spec.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          sequence: { groupOrder: 1 },
          include: ["test/e2e/**/*.e2e.ts"],
          // The first run builds llama.cpp and the Python env here, once, with progress on stderr.
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Each file converts real models with real tools; two at a time suits the 2-core machines we run on.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
