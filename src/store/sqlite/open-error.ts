/**
 * Turns a failure to open the SQLite file into an error an operator can act on: it names the file (as an absolute
 * path) and the reason — a read-only directory, a path through a regular file, a directory where the file should be,
 * missing permissions, a file that is not a SQLite database, a full disk — instead of SQLite's bare "unable to open
 * database file". It only inspects the file system after a failure, so opening costs nothing more. Imports nothing
 * from the rest of the store.
 */
import { accessSync, constants, statSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { StoreError } from "../../core/errors.js";

/** A `StoreError` saying which file could not be opened and why. */
export function openError(path: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const file = resolve(path);
  return new StoreError(`cannot open the SQLite store ${file}: ${reasonOf(file, error)}`, { cause: error });
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The errno code `access` fails with, or undefined when the access is allowed. */
function denied(path: string, mode: number): string | undefined {
  try {
    accessSync(path, mode);
    return undefined;
  } catch (error) {
    return codeOf(error) ?? "EACCES";
  }
}

function explain(code: string): string {
  if (code === "EROFS") return "read-only file system (EROFS)";
  if (code === "EACCES" || code === "EPERM") return `permission denied (${code})`;
  return code;
}

function reasonOf(file: string, error: unknown): string {
  const code = codeOf(error) ?? "";
  const message = error instanceof Error ? error.message : String(error);
  if (code.startsWith("SQLITE_NOTADB")) return "the file exists but is not a SQLite database";
  if (code.startsWith("SQLITE_CORRUPT")) return `the database file is corrupted (${message})`;
  if (code.startsWith("SQLITE_FULL") || code === "ENOSPC") return "the disk is full";
  const stat = statOf(file);
  if (stat?.isDirectory()) return "it is a directory, not a database file";
  const dir = dirname(file);
  // The nearest part of the path that exists says why the directory could not be made or written.
  let existing = dir;
  while (!statOf(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const existingStat = statOf(existing);
  if (existingStat && !existingStat.isDirectory()) return `${existing} is a file, not a directory`;
  if (existing !== dir) {
    const why = denied(existing, constants.W_OK | constants.X_OK);
    return `cannot create the directory ${dir}: ${why ? explain(why) : message}`;
  }
  // SQLite writes the file and its -wal and -shm files next to it, so the directory must be writable too.
  const dirDenied = denied(dir, constants.W_OK | constants.X_OK);
  if (dirDenied) return `the directory ${dir} is not writable: ${explain(dirDenied)}`;
  const fileDenied = stat ? denied(file, constants.R_OK | constants.W_OK) : undefined;
  if (fileDenied) return `the file is not readable and writable: ${explain(fileDenied)}`;
  return message;
}
