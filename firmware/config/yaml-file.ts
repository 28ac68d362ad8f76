// Reads a YAML file and checks it against a schema, locating each problem at its line and column.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { validate, type Path, type Schema, type SchemaIssue } from './schema.js';

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

/** Parses YAML text and validates it; throws ConfigError naming file, field path, line and column. */
export function parseYaml<T>(text: string, file: string, schema: Schema<T>, refine?: (value: T) => SchemaIssue[]): T {
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
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const result = validate(schema, data);
  const issues = result.value !== undefined ? (refine?.(result.value) ?? []) : result.issues;
  if (result.value !== undefined && issues.length === 0) return result.value;
  throw new ConfigError(
    issues.map((issue): ConfigProblem => {
      const node = locate(doc, issue.path);
      const pos = node?.range ? lineCounter.linePos(node.range[0]) : undefined;
      return { file, path: issue.path, message: issue.message, line: pos?.line, column: pos?.col };
    }),
  );
}

export function loadYamlFile<T>(file: string, schema: Schema<T>, refine?: (value: T) => SchemaIssue[]): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'error';
    throw new ConfigError([{ file, path: [], message: `cannot read the file (${code})` }]);
  }
  return parseYaml(text, file, schema, refine);
}
