// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Import boundaries between the folders of src/ (docs/architecture.md explains the layers). Each file gets exactly one
// `no-restricted-imports` setting (ESLint replaces, not merges, a rule's options when two entries match a file), so
// every zone below lists its files once and carries the whole set of patterns it needs. Cycles between files and
// folders are checked by scripts/check-structure.mjs, which `npm run lint` runs after ESLint.
const FRAMEWORKS = ["fastify", "fastify/*", "express", "hono", "hono/*", "@hono/*"];
const DRIVERS = ["better-sqlite3", "bullmq", "ioredis", "pg", "pg-*"];
const SERVER = ["node:http", "node:https", "node:http2", "node:net"];
const BACKENDS = ["sqlite", "redis", "postgres", "memory"];
/** Relative imports into a folder of src/, from any depth ("../x/…", "../../x/…"). */
const into = (...folders) => folders.flatMap((f) => [`../${f}/*`, `../../${f}/*`, `../../../${f}/*`]);
const STORE_BACKENDS = [...BACKENDS.flatMap((b) => into(`store/${b}`)), "**/memory-store.js"];
const APP = into("http", "service", "cli", "dashboard");
const HTTP_ADAPTERS = ["node", "express", "fastify", "web", "hono"];

/** One `no-restricted-imports` entry; `groups` are [patterns, message] pairs; `extra` adds keys (ignores, rules). */
function restrict(files, groups, extra = {}) {
  const { rules = {}, ...rest } = extra;
  return {
    files,
    ...rest,
    rules: {
      "no-restricted-imports": ["error", { patterns: groups.map(([group, message]) => ({ group, message })) }],
      ...rules,
    },
  };
}

function importBoundaries() {
  const zones = [];
  // The pure layers: the webhook core, topics, the delivery engine, the store contract and its shared helpers.
  zones.push(
    restrict(
      [
        "src/core/**",
        "src/topics/**",
        "src/delivery/**",
        "src/config/options.ts",
        "src/store/store.ts",
        "src/store/job-helpers.ts",
        "src/store/replay.ts",
        "src/store/retention.ts",
        "src/store/shared/**",
      ],
      [
        [
          [...SERVER, ...FRAMEWORKS, ...DRIVERS, "pino"],
          "core, delivery and the store contract are pure: no server, framework, driver or logger package",
        ],
        [
          [...APP, ...into("outbound"), "**/config/env.js"],
          "core, delivery and the store contract never import the layers above them",
        ],
        [
          STORE_BACKENDS,
          "core, delivery and the store contract never import a store implementation, only the contract",
        ],
      ],
      {
        rules: {
          "no-restricted-globals": [
            "error",
            { name: "process", message: "core reads no process state; config/env.ts does" },
          ],
        },
      },
    ),
  );
  // HTTP adapters: each maps one framework onto the shared request flow; none imports another adapter or a driver.
  const adapterRules = (own) => [
    [DRIVERS, "HTTP adapters never import a database driver"],
    [
      [...STORE_BACKENDS, ...into("service", "cli", "dashboard", "outbound")],
      "HTTP adapters import core/ and the shared flow in http/ only",
    ],
    [
      HTTP_ADAPTERS.filter((a) => a !== own).map((a) => `./${a}.js`),
      "an HTTP adapter never imports another adapter: share code through request-flow.ts, node-io.ts or web-io.ts",
    ],
    ...(own === undefined
      ? [[FRAMEWORKS, "the shared request flow knows no framework: only an adapter imports its own"]]
      : [
          [
            FRAMEWORKS.filter((f) => !f.startsWith(own) && !f.startsWith(`@${own}`)),
            `the ${own} adapter imports no other framework`,
          ],
        ]),
  ];
  for (const a of HTTP_ADAPTERS) zones.push(restrict([`src/http/${a}.ts`], adapterRules(a)));
  zones.push(
    restrict(["src/http/**"], adapterRules(undefined), { ignores: HTTP_ADAPTERS.map((a) => `src/http/${a}.ts`) }),
  );
  // The dashboard reads through the store contract; it never opens a backend.
  zones.push(
    restrict(
      ["src/dashboard/**"],
      [
        [DRIVERS, "the dashboard never talks to a database: it reads through the store contract"],
        [STORE_BACKENDS, "the dashboard imports the store contract (store/store.ts), never a store implementation"],
        [
          into("service", "cli"),
          "the dashboard is a library part: service/ and cli/ import it, not the other way round",
        ],
      ],
    ),
  );
  // Outbound runs on any store.
  zones.push(
    restrict(
      ["src/outbound/**"],
      [
        [DRIVERS, "outbound does not know which backend it runs on"],
        [[...STORE_BACKENDS, ...APP], "outbound depends on the store contract only"],
      ],
    ),
  );
  // Store backends: each uses its own driver and never another backend.
  const backendDrivers = {
    sqlite: ["better-sqlite3"],
    redis: ["bullmq", "ioredis", "better-sqlite3"],
    postgres: ["pg", "pg-*"],
    memory: [],
  };
  for (const b of BACKENDS) {
    const files = [`src/store/${b}/**`];
    const others = BACKENDS.filter((o) => o !== b);
    zones.push(
      restrict(files, [
        [DRIVERS.filter((d) => !backendDrivers[b].includes(d)), `the ${b} store uses only its own driver`],
        [
          [...others.map((o) => `../${o}/*`)],
          `the ${b} store never imports another store implementation: share code through store/shared/`,
        ],
        [[...APP, ...into("outbound")], "a store implementation never imports the layers above it"],
      ]),
    );
  }
  return zones;
}

export default tseslint.config(
  { ignores: [".bench/**", "dist/**", "node_modules/**", "src/dashboard/assets/**", "coverage/**", "test-output/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Plain JavaScript (config, asset copier, benchmark servers): not part of the TypeScript project.
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        setImmediate: "readonly",
      },
    },
  },
  ...importBoundaries(),
  {
    files: ["test/**", "bench/**", "scripts/**", "src/testing/store-conformance.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/require-await": "off",
    },
  },
);
