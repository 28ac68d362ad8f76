// Reads a YAML file and checks it against a schema, locating each problem at its line and column.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { validate, type Path, type Schema, type SchemaIssue } from './schema.js';

/** A parsed YAML document: its data, and what is needed to point at the line and column of a field. */
export interface YamlSource {
  /** The file (or URL) named in error messages. */
  readonly file: string;
  /** The text as read. */
  readonly text: string;
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  /** The document as plain data (aliases expanded), before any schema. */
  readonly data: unknown;
}

/** The node at path, or the nearest ancestor that exists; for a key that is present, its key node. */
function locate(doc: Document, path: Path): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const prefix = path.slice(0, n);
    const parent = n > 0 ? doc.getIn(prefix.slice(0, -1), true) : undefined;
    const last = prefix[prefix.length - 1];
    if (n > 0 && isMap(parent) && typeof last === 'string') {
      // Unknown fields are reported at the key itself.
      const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === last);
      if (pair && isScalar(pair.key) && pair.value === null) return pair.key;
    }
    const node: unknown = n === 0 ? doc.contents : doc.getIn(prefix, true);
    if (node && typeof node === 'object' && 'range' in node) return node as Node;
  }
  return undefined;
}

/** How many leading elements of path exist in the document (path.length: the field itself is there). */
export function presentDepth(source: YamlSource, path: Path): number {
  for (let n = path.length; n > 0; n--) if (source.doc.hasIn(path.slice(0, n))) return n;
  return 0;
}

/** A schema issue as a problem of this source, with the line and column of the field (or its nearest ancestor). */
export function problemAt(source: YamlSource, issue: SchemaIssue): ConfigProblem {
  const node = locate(source.doc, issue.path);
  const pos = node?.range ? source.lineCounter.linePos(node.range[0]) : undefined;
  return { file: source.file, path: issue.path, message: issue.message, line: pos?.line, column: pos?.col };
}

/** Parses YAML text; throws ConfigError with the line and column of a syntax error. */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e): ConfigProblem => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, path: [], message: `YAML syntax: ${e.message.split('\n')[0] ?? e.code}`, line: pos.line, column: pos.col };
      }),
    );
  }
  // maxAliasCount bounds the expansion of aliases (a "billion laughs" document).
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError([{ file, path: [], message: `YAML: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  return { file, text, doc, lineCounter, data };
}

/** Validates a parsed source; throws ConfigError naming file, field path, line and column. */
export function validateYamlSource<T>(source: YamlSource, schema: Schema<T>, refine?: (value: T) => SchemaIssue[]): T {
  const result = validate(schema, source.data);
  const issues = result.value !== undefined ? (refine?.(result.value) ?? []) : result.issues;
  if (result.value !== undefined && issues.length === 0) return result.value;
  throw new ConfigError(issues.map((issue) => problemAt(source, issue)));
}

/** Parses YAML text and validates it; throws ConfigError naming file, field path, line and column. */
export function parseYaml<T>(text: string, file: string, schema: Schema<T>, refine?: (value: T) => SchemaIssue[]): T {
  return validateYamlSource(parseYamlSource(text, file), schema, refine);
}

/** Reads a file's text; throws ConfigError naming the file when it cannot be read. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'error';
    throw new ConfigError([{ file, path: [], message: `cannot read the file (${code})` }]);
  }
}

export function loadYamlFile<T>(file: string, schema: Schema<T>, refine?: (value: T) => SchemaIssue[]): T {
  return parseYaml(readConfigText(file), file, schema, refine);
}
