/**
 * Generates the topic catalogue and the OpenAPI item types (STYLE §7, octokit `scripts/generate-types.ts`).
 *
 * Inputs (both in the repo, so a fresh clone can regenerate):
 * - `scripts/topic-catalogue.yaml`: every topic Intercom documents or is seen sending, with its item type and shape.
 * - `scripts/intercom-openapi/api.intercom.io.2.15.yaml`: Intercom's pinned OpenAPI description (MIT).
 *
 * Outputs:
 * - `src/topics/generated/topic-names.ts`: `topicNames` (as const) and `topicCatalogue`.
 * - `src/topics/generated/items.ts`: loose item types (every field optional, extras allowed).
 *
 * Usage: `npm run generate:topics` writes the files; `npm run check:generated` (`--check`) exits 1 when they differ.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** First line of every generated file. */
export const GENERATED_HEADER = "// THIS FILE IS GENERATED - DO NOT EDIT DIRECTLY (scripts/generate-topics.ts)";

const SCRIPTS_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(SCRIPTS_DIR, "..");
const CATALOGUE_FILE = join(SCRIPTS_DIR, "topic-catalogue.yaml");
const OUT_DIR = join(ROOT, "src", "topics", "generated");

/** Where a topic name comes from; see the header of `topic-catalogue.yaml`. */
export const TOPIC_SOURCES = ["docs", "docs-2.5", "docs-1.x", "openapi-preview", "capture", "intercom-bridge"] as const;

/** One validated catalogue entry. */
export interface CatalogueEntry {
  topic: string;
  item: string | null;
  shape: string;
  description: string;
  source: (typeof TOPIC_SOURCES)[number];
  preview: boolean;
  legacy: boolean;
}

/** The parsed and validated `topic-catalogue.yaml`. */
export interface Catalogue {
  topics: CatalogueEntry[];
  openapi: { file: string; schemas: string[] };
}

const TOPIC_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const SHAPE_RE = /^[A-Z][A-Za-z0-9]*$/;

/** Parses and validates the catalogue; throws with every problem listed. */
export function readCatalogue(text: string): Catalogue {
  const doc = parse(text) as { topics?: unknown; openapi?: { file?: unknown; schemas?: unknown } } | null;
  const problems: string[] = [];
  const topics: CatalogueEntry[] = [];
  const seen = new Set<string>();
  if (!doc || !Array.isArray(doc.topics)) throw new Error("topic-catalogue.yaml: `topics` must be a list");
  for (const [i, raw] of (doc.topics as unknown[]).entries()) {
    const e = (raw ?? {}) as Record<string, unknown>;
    const where = `topics[${i}]${typeof e["topic"] === "string" ? ` (${e["topic"]})` : ""}`;
    const topic = e["topic"];
    if (typeof topic !== "string" || !TOPIC_RE.test(topic)) problems.push(`${where}: topic must match ${TOPIC_RE}`);
    else if (seen.has(topic)) problems.push(`${where}: duplicate topic`);
    else seen.add(topic);
    const item = e["item"];
    if (item !== null && (typeof item !== "string" || item.length === 0))
      problems.push(`${where}: item must be a string or null`);
    const shape = e["shape"];
    if (typeof shape !== "string" || !SHAPE_RE.test(shape)) problems.push(`${where}: shape must be a PascalCase name`);
    const description = e["description"];
    if (typeof description !== "string" || description.trim() === "" || /[\r\n]/.test(description)) {
      problems.push(`${where}: description must be one non-empty line`);
    }
    const source = e["source"];
    if (!TOPIC_SOURCES.includes(source as never))
      problems.push(`${where}: source must be one of ${TOPIC_SOURCES.join(", ")}`);
    for (const flag of ["preview", "legacy"]) {
      if (e[flag] !== undefined && e[flag] !== true) problems.push(`${where}: ${flag} must be true or absent`);
    }
    for (const key of Object.keys(e)) {
      if (!["topic", "item", "shape", "description", "source", "preview", "legacy"].includes(key))
        problems.push(`${where}: unknown key ${key}`);
    }
    topics.push({
      topic: topic as string,
      item: item as string | null,
      shape: shape as string,
      description: description as string,
      source: source as CatalogueEntry["source"],
      preview: e["preview"] === true,
      legacy: e["legacy"] === true,
    });
  }
  const file = doc.openapi?.file;
  const schemas = doc.openapi?.schemas;
  if (typeof file !== "string") problems.push("openapi.file must be a path relative to scripts/");
  if (!Array.isArray(schemas) || schemas.some((s) => typeof s !== "string"))
    problems.push("openapi.schemas must be a list of names");
  if (problems.length > 0) throw new Error(`topic-catalogue.yaml is invalid:\n  ${problems.join("\n  ")}`);
  return { topics, openapi: { file: file as string, schemas: schemas as string[] } };
}

/** Renders `src/topics/generated/topic-names.ts`. */
export function renderTopicNames(catalogue: Catalogue): string {
  const q = (s: string): string => JSON.stringify(s);
  const lines: string[] = [
    GENERATED_HEADER,
    "// Source: scripts/topic-catalogue.yaml (facts §1.8, §1.9). Regenerate with `npm run generate:topics`.",
    "",
    "/** Where a topic name comes from: the 2.x topic table, the legacy 1.x models, the Preview OpenAPI description, only real deliveries, or intercom-bridge itself (synthetic `reconcile.*` notifications). */",
    `export type TopicSource = ${TOPIC_SOURCES.map(q).join(" | ")};`,
    "",
    "/** What the catalogue knows about one topic. */",
    "export interface TopicCatalogueEntry {",
    "  /** `data.item.type` as real payloads send it (facts §1.9); `null` when the item has no `type`. Route by topic, never by this. */",
    "  readonly item: string | null;",
    "  /** The key of the item's TypeScript shape in `TopicItemShapes` (src/topics/item-map.ts). */",
    "  readonly shape: string;",
    "  /** One line saying when Intercom sends it. */",
    "  readonly description: string;",
    "  /** Where the topic name comes from. */",
    "  readonly source: TopicSource;",
    "  /** Present (true) on Preview-only topics. */",
    "  readonly preview?: true;",
    "  /** Present (true) on legacy API 1.x topics that are not in the 2.x table. */",
    "  readonly legacy?: true;",
    "}",
    "",
    `/** Every topic Intercom documents or is seen sending (${catalogue.topics.length} topics), spelled as on the wire. */`,
    "export const topicNames = [",
    ...catalogue.topics.map((t) => `  ${q(t.topic)},`),
    "] as const;",
    "",
    "/** Topic → item type, shape, description and source. */",
    "export const topicCatalogue = {",
    ...catalogue.topics.map((t) => {
      const parts = [
        `item: ${t.item === null ? "null" : q(t.item)}`,
        `shape: ${q(t.shape)}`,
        `description: ${q(t.description)}`,
        `source: ${q(t.source)}`,
      ];
      if (t.preview) parts.push("preview: true");
      if (t.legacy) parts.push("legacy: true");
      return `  ${q(t.topic)}: { ${parts.join(", ")} },`;
    }),
    "} as const satisfies Record<(typeof topicNames)[number], TopicCatalogueEntry>;",
    "",
  ];
  return lines.join("\n");
}

// ── OpenAPI → TypeScript ──────────────────────────────────────────────────────────────────────────────────────────────

/** The subset of an OpenAPI 3.0 schema object the generator understands. */
interface Schema {
  $ref?: string;
  type?: string;
  title?: string;
  description?: string;
  nullable?: boolean;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
}

const refName = (ref: string): string => {
  const name = ref.split("/").pop();
  if (!ref.startsWith("#/components/schemas/") || !name) throw new Error(`unsupported $ref ${ref}`);
  return name;
};

/** `conversation_part` → `ConversationPart`. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

/** The named schemas and everything they reference, sorted by name. */
export function schemaClosure(all: Record<string, Schema>, roots: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== "object") return;
    const ref = (node as Schema).$ref;
    if (typeof ref === "string") add(refName(ref));
    for (const value of Object.values(node)) visit(value);
  };
  const add = (name: string): void => {
    if (seen.has(name)) return;
    const schema = all[name];
    if (!schema) throw new Error(`OpenAPI schema "${name}" not found`);
    seen.add(name);
    visit(schema);
  };
  roots.forEach(add);
  return [...seen].sort();
}

function docComment(text: string | undefined, indent: string): string[] {
  const clean = (text ?? "").replace(/\*\//g, "*\\/").replace(/\s+/g, " ").trim();
  return clean ? [`${indent}/** ${clean} */`] : [];
}

const IDENT_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function union(parts: string[]): string {
  // Hoist `null` to the end once, so `oneOf: [nullable string, array]` does not repeat it.
  const hasNull = parts.some((p) => /\| null$/.test(p));
  const unique = [...new Set(parts.map((p) => p.replace(/ \| null$/, "")))];
  if (unique.includes("unknown")) return "unknown";
  return hasNull ? `${unique.join(" | ")} | null` : unique.join(" | ");
}

function orNull(t: string): string {
  return t === "unknown" || /\| null$/.test(t) ? t : `${t} | null`;
}

function wrap(t: string): string {
  return /[|&]/.test(t) && !/^\{[\s\S]*\}$/.test(t) ? `(${t})` : t;
}

/** Renders OpenAPI schemas as loose TypeScript: every property optional and nullable, extras allowed. */
export function createTypeRenderer(all: Record<string, Schema>) {
  const refType = (ref: string): string => {
    const name = refName(ref);
    return all[name]?.nullable ? `${pascalCase(name)} | null` : pascalCase(name);
  };

  const objectBody = (properties: Record<string, Schema>, indent: string, extra: "unknown"): string[] => {
    const lines: string[] = [];
    for (const [key, prop] of Object.entries(properties)) {
      lines.push(...docComment(prop.description ?? prop.title, indent));
      // Every field is optional and nullable: webhook captures send null for many fields REST calls non-null
      // (facts §1.9: browser, job_title, company name, …). Types must not promise what payloads do not keep.
      lines.push(`${indent}${IDENT_RE.test(key) ? key : JSON.stringify(key)}?: ${orNull(typeOf(prop, indent))};`);
    }
    lines.push(`${indent}[key: string]: ${extra};`);
    return lines;
  };

  function typeOf(s: Schema, indent: string): string {
    const nullable = s.nullable === true;
    let t: string;
    if (s.$ref) {
      t = refType(s.$ref);
    } else if (s.allOf || s.oneOf || s.anyOf) {
      const parts = (s.allOf ?? s.oneOf ?? s.anyOf ?? []).map((p) => typeOf(p, indent));
      if (s.allOf) {
        if (s.properties) parts.push(inlineObject(s, indent));
        t = parts.map(wrap).join(" & ");
      } else {
        t = union(parts);
      }
    } else if (s.enum && s.type === "string") {
      t = `OpenString<${s.enum.map((v) => JSON.stringify(String(v))).join(" | ")}>`;
    } else if (s.type === "string") {
      t = "string";
    } else if (s.type === "integer" || s.type === "number") {
      t = "number";
    } else if (s.type === "boolean") {
      t = "boolean";
    } else if (s.type === "array") {
      t = `Array<${s.items ? typeOf(s.items, indent) : "unknown"}>`;
    } else if (s.type === "object" || s.properties || s.additionalProperties) {
      t = inlineObject(s, indent);
    } else {
      t = "unknown";
    }
    return nullable ? orNull(t) : t;
  }

  // Map values (`additionalProperties`) are always `unknown`: the spec's own examples break its value types
  // (booleans in `custom_attributes`, numbers in `data_event.metadata`; facts §2.3).
  function inlineObject(s: Schema, indent: string): string {
    if (!s.properties || Object.keys(s.properties).length === 0) return "{ [key: string]: unknown }";
    return ["{", ...objectBody(s.properties, indent + "  ", "unknown"), `${indent}}`].join("\n");
  }

  /** Renders one named schema as an exported interface (plain objects) or type alias. */
  function renderNamed(name: string): string {
    const s = all[name];
    if (!s) throw new Error(`OpenAPI schema "${name}" not found`);
    const lines = docComment(s.description ?? s.title, "");
    const isPlainObject =
      !s.$ref && !s.allOf && !s.oneOf && !s.anyOf && (s.type === "object" || s.properties !== undefined);
    if (isPlainObject) {
      lines.push(`export interface ${pascalCase(name)} {`, ...objectBody(s.properties ?? {}, "  ", "unknown"), "}");
    } else {
      // A schema-level `nullable` is applied where the schema is referenced (refType), not in the alias.
      lines.push(`export type ${pascalCase(name)} = ${typeOf({ ...s, nullable: false }, "")};`);
    }
    return lines.join("\n");
  }

  return { renderNamed, typeOf };
}

/** Renders `src/topics/generated/items.ts` from the OpenAPI document. */
export function renderItems(openapiText: string, catalogue: Catalogue): string {
  const doc = parse(openapiText) as { info?: { version?: string }; components?: { schemas?: Record<string, Schema> } };
  const all = doc.components?.schemas;
  if (!all) throw new Error("OpenAPI document has no components.schemas");
  const names = schemaClosure(all, catalogue.openapi.schemas);
  const renderer = createTypeRenderer(all);
  const pascalNames = new Map<string, string>();
  for (const n of names) {
    const p = pascalCase(n);
    const other = pascalNames.get(p);
    if (other) throw new Error(`schemas "${other}" and "${n}" both map to ${p}`);
    pascalNames.set(p, n);
  }
  return [
    GENERATED_HEADER,
    `// Source: scripts/${catalogue.openapi.file} (Intercom API ${doc.info?.version ?? "?"}), schemas listed in scripts/topic-catalogue.yaml`,
    "// and everything they reference. Loose on purpose (facts §1.9): every field is optional and nullable, unknown extras are allowed.",
    "// These are the REST shapes; src/topics/webhook-items.ts corrects them where webhook payloads differ.",
    "",
    "/** A string enum that stays open: the documented values autocomplete, any other string is accepted. */",
    "export type OpenString<T extends string> = T | (string & Record<never, never>);",
    "",
    ...names.flatMap((n) => [renderer.renderNamed(n), ""]),
  ].join("\n");
}

/** Generates every output in memory: file path → contents. */
export function generate(): Map<string, string> {
  const catalogue = readCatalogue(readFileSync(CATALOGUE_FILE, "utf8"));
  const openapiText = readFileSync(join(SCRIPTS_DIR, catalogue.openapi.file), "utf8");
  return new Map([
    [join(OUT_DIR, "topic-names.ts"), renderTopicNames(catalogue)],
    [join(OUT_DIR, "items.ts"), renderItems(openapiText, catalogue)],
  ]);
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function main(argv: readonly string[]): number {
  const isCheck = argv.includes("--check");
  const outputs = generate();
  const stale: string[] = [];
  for (const [path, contents] of outputs) {
    if (readOrNull(path) === contents) continue;
    if (isCheck) {
      stale.push(relative(ROOT, path));
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, contents);
      process.stdout.write(`wrote ${relative(ROOT, path)}\n`);
    }
  }
  if (isCheck && stale.length > 0) {
    process.stderr.write(
      `Generated files are out of date: ${stale.join(", ")}\nRun \`npm run generate:topics\` and commit the result.\n`,
    );
    return 1;
  }
  if (isCheck) process.stdout.write("Generated files are up to date.\n");
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
