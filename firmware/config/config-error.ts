// ConfigError: a broken config or board file, with the file, the field's path, and its line and column.
import { formatPath, type Path } from './schema.js';

export interface ConfigProblem {
  file: string;
  path: Path;
  message: string;
  /** 1-based line and column in the file, when the field (or its parent) could be located. */
  line?: number | undefined;
  column?: number | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return `${where}: ${p.path.length ? `${formatPath(p.path)}: ` : ''}${p.message}`;
}
