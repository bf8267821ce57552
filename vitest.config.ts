/**
 * Vitest configuration: the tests are split into projects by what they need, so a change can be checked in seconds
 * and the whole suite still runs with one command. `unit` holds pure tests (no server, no database, no child
 * process to speak of); `types` type-checks `test/types/*.test-d.ts`; `conformance` runs the store contract suite on
 * every backend; `browser` drives the dashboard in Chromium; `integration` is every other test file, so a new test
 * folder is never silently left out of `npm test`. `npm run test:unit` runs only `unit`; `npm test` runs them all.
 */
import { configDefaults, defineConfig } from "vitest/config";

const UNIT = "test/unit/**/*.test.ts";
const CONFORMANCE = "test/conformance/**/*.test.ts";
const BROWSER = "test/browser/**/*.test.ts";

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    coverage: {
      provider: "v8",
      // The pure core and the delivery engine: the code whose rules every store and adapter relies on.
      include: ["src/core/**/*.ts", "src/delivery/**/*.ts"],
      reporter: ["text", "json-summary"],
      reportsDirectory: "coverage",
      reportOnFailure: true,
      // Floors a little under what `npm run test:coverage` (unit + conformance) measures, so a change that leaves
      // engine or core code untested fails it; the outcome table, the backoff formula and signature checking are
      // fully covered and must stay so.
      thresholds: {
        lines: 94,
        statements: 94,
        functions: 88,
        branches: 88,
        "src/delivery/outcome.ts": { lines: 100, statements: 100, functions: 100, branches: 95 },
        "src/delivery/backoff.ts": { lines: 100, statements: 100, functions: 100, branches: 100 },
        "src/core/signature.ts": { lines: 100, statements: 100, functions: 100, branches: 100 },
      },
    },
    projects: [
      { extends: true, test: { name: "unit", include: [UNIT], pool: "threads" } },
      {
        extends: true,
        test: {
          name: "types",
          include: [],
          typecheck: {
            enabled: true,
            only: true,
            include: ["test/types/**/*.test-d.ts"],
            tsconfig: "./tsconfig.json",
          },
        },
      },
      { extends: true, test: { name: "conformance", include: [CONFORMANCE] } },
      { extends: true, test: { name: "browser", include: [BROWSER] } },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, UNIT, CONFORMANCE, BROWSER],
        },
      },
    ],
  },
});
