/**
 * `intercom-bridge/postgres`: the PostgreSQL store, for several `serve` instances on one database. Importing this
 * entry loads `pg` (an optional peer dependency: `npm install pg`); the package root and every other entry do not.
 */
export {
  createPostgresStore,
  PostgresStore,
  type PostgresConnection,
  type PostgresStoreOptions,
} from "./postgres-store.js";
export { migrate, loadMigrations, type Migration } from "./migrate.js";
