/**
 * `intercom-bridge/sqlite`: the default durable store. Importing this entry loads `better-sqlite3`; the package root
 * does not.
 */
export { createSqliteStore, SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
export { migrate, loadMigrations, type Migration } from "./migrate.js";
