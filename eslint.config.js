// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
  {
    files: ["src/core/**", "src/topics/**", "src/queue/**", "src/store/store.ts", "src/config/options.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "node:http",
                "node:https",
                "fastify",
                "express",
                "hono",
                "better-sqlite3",
                "bullmq",
                "ioredis",
                "pg",
                "pino",
              ],
              message: "core must stay framework- and driver-free (STYLE §4)",
            },
            {
              group: [
                "../http/*",
                "../service/*",
                "../cli/*",
                "../store/sqlite/*",
                "../store/redis/*",
                "../store/postgres/*",
              ],
              message: "core must not import adapters (STYLE §4)",
            },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        { name: "process", message: "core reads no process state; config/env.ts does" },
      ],
    },
  },
  {
    files: ["src/http/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "better-sqlite3",
                "bullmq",
                "ioredis",
                "pg",
                "../store/sqlite/*",
                "../store/redis/*",
                "../store/postgres/*",
              ],
              message: "adapters never import a driver (STYLE §4)",
            },
          ],
        },
      ],
    },
  },
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
