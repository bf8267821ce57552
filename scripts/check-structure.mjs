// Structure checks that ESLint cannot express, run by `npm run lint` after ESLint so the layout of src/ cannot rot:
// (1) no import cycle between files (madge --circular, counting the imports that exist at run time: an
// `import type` cycle is erased by the compiler and cannot bite in load order); (2) no cycle between folders,
// counting every import, type-only ones included, because a folder cycle means the layers double back whatever the
// runtime does: a folder is a top-level folder of src/, except that each backend under store/ is its own folder,
// apart from the contract beside it, and core's leaf modules (errors, logger, clock…: the core files that import
// nothing), which every layer uses, count apart from core's receiver and router, which sit above delivery; (3) every hand-written source file opens with a comment saying what it is for
// (generated files excepted); (4) no hand-written source file is over 500 lines (the conformance suite, a
// specification, excepted). Prints each problem with the imports that make it and exits 1 when there is one.
// KNOWN_FOLDER_CYCLES, FILES_WITHOUT_PURPOSE and LARGE_FILES list what was already so when the check was introduced: they are
// reported as still to do, not as failures, and may only shrink; anything else fails.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import madge from "madge";

const ROOT = path.resolve(import.meta.dirname, "..");
const SRC = path.join(ROOT, "src");

/**
 * core's leaf modules (errors, logger, clock, withTimeout, exact-body…): the files of core/ that import nothing of the
 * project. Every layer may use them, and a file that imports nothing can close no cycle, so they count as a folder of
 * their own; filled in from the import graph below.
 */
const CORE_BASE = new Set();

/** The folder a src-relative file belongs to, for the folder-cycle check. */
function folderOf(file) {
  if (CORE_BASE.has(file)) return "core (leaf modules)";
  const parts = file.split("/");
  if (parts.length === 1) return "(src root)";
  if (parts[0] === "store" && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts[0];
}

/** Strongly connected components with more than one member (Tarjan), each a folder cycle. */
function cyclesOf(graph) {
  let index = 0;
  const stack = [];
  const onStack = new Set();
  const indexOf = new Map();
  const low = new Map();
  const found = [];
  const visit = (v) => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), indexOf.get(w)));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return found;
}

/** Folder cycles that existed when this check was added, each as its sorted folder list joined by ", ". */
const KNOWN_FOLDER_CYCLES = new Set([
  // The local Intercom stand-in serves both APIs: outbound/fake-intercom.ts mounts reconcile/fake-workspace.ts, while
  // reconcile uses outbound's API client and pacing. Moving the stand-in (outbound/fake-intercom*.ts and
  // reconcile/fake-*.ts) into a folder of its own closes this cycle.
  "outbound, reconcile",
]);
/** Source files that opened without a purpose comment when this check was added. */
const FILES_WITHOUT_PURPOSE = new Set([]);

/** Source files over MAX_LINES when this check was added. */
const LARGE_FILES = new Set([]);
const MAX_LINES = 500;
/** Longer on purpose: the store conformance suite is a specification, read as one. */
const LONG_BY_NATURE = new Set(["src/testing/store-conformance.ts"]);

const problems = [];
const pending = [];
const options = { fileExtensions: ["ts"], tsConfig: path.join(ROOT, "tsconfig.json") };

// (1) File cycles, run-time imports only.
const runtime = await madge(SRC, { ...options, detectiveOptions: { ts: { skipTypeImports: true } } });
for (const cycle of runtime.circular()) {
  problems.push(`import cycle between files: ${[...cycle, cycle[0]].join(" > ")}`);
}

// (2) Folder cycles, every import.
const all = await madge(SRC, options);
const skipped = all.warnings().skipped;
if (skipped.length > 0) problems.push(`imports madge could not resolve: ${skipped.join(", ")}`);
for (const [file, deps] of Object.entries(all.obj())) {
  if (file.startsWith("core/") && deps.length === 0) CORE_BASE.add(file);
}
const graph = new Map();
for (const [file, deps] of Object.entries(all.obj())) {
  const from = folderOf(file);
  if (!graph.has(from)) graph.set(from, new Map());
  for (const dep of deps) {
    const to = folderOf(dep);
    if (to === from) continue;
    const edges = graph.get(from);
    if (!edges.has(to)) edges.set(to, []);
    edges.get(to).push(`${file} -> ${dep}`);
  }
}
const seenCycles = new Set();
for (const cycle of cyclesOf(graph)) {
  const key = cycle.join(", ");
  seenCycles.add(key);
  if (KNOWN_FOLDER_CYCLES.has(key)) {
    pending.push(`known import cycle between folders: ${key}`);
    continue;
  }
  const lines = [`import cycle between folders: ${key}; the imports that close it:`];
  for (const a of cycle) {
    for (const b of cycle) for (const edge of graph.get(a)?.get(b) ?? []) lines.push(`    ${edge}`);
  }
  problems.push(lines.join("\n"));
}
for (const key of KNOWN_FOLDER_CYCLES) {
  if (!seenCycles.has(key)) problems.push(`the folder cycle "${key}" is gone: remove it from KNOWN_FOLDER_CYCLES`);
}

// (3) Purpose comments on hand-written source files.
const files = execFileSync("git", ["ls-files", "src/**.ts", "src/**.js"], { cwd: ROOT, encoding: "utf8" })
  .split("\n")
  .filter((f) => f !== "" && !f.includes("/generated/"));
for (const file of files) {
  let text;
  try {
    text = readFileSync(path.join(ROOT, file), "utf8");
  } catch {
    continue; // deleted in the work tree, not yet in the index
  }
  const first = text.split("\n").find((line) => line.trim() !== "") ?? "";
  const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  if (lines > MAX_LINES && !LONG_BY_NATURE.has(file)) {
    if (LARGE_FILES.has(file)) pending.push(`${file}: ${lines} lines, still to split (at most ${MAX_LINES})`);
    else problems.push(`${file}: ${lines} lines; split it along its seams (at most ${MAX_LINES} per file)`);
  } else if (LARGE_FILES.has(file)) {
    problems.push(`${file} is ${lines} lines now: remove it from LARGE_FILES`);
  }
  const hasPurpose = /^\s*(\/\*\*|\/\*|\/\/|#!)/.test(first);
  if (hasPurpose && FILES_WITHOUT_PURPOSE.has(file)) {
    problems.push(`${file} now says what it is for: remove it from FILES_WITHOUT_PURPOSE`);
  } else if (!hasPurpose && FILES_WITHOUT_PURPOSE.has(file)) {
    pending.push(`${file}: still to open with a comment saying what the file is for`);
  } else if (!hasPurpose) {
    problems.push(`${file}: does not open with a comment saying what the file is for`);
  }
}

for (const file of [...LARGE_FILES, ...FILES_WITHOUT_PURPOSE]) {
  if (!files.includes(file)) problems.push(`${file} no longer exists: remove it from the lists in this script`);
}

if (pending.length > 0) console.warn(`still to do (${pending.length}):\n  ${pending.join("\n  ")}`);
if (problems.length > 0) {
  console.error(problems.join("\n"));
  console.error(`\ncheck-structure: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(
  `check-structure: ${Object.keys(all.obj()).length} files, no new import cycle, every other file says what it is for`,
);
