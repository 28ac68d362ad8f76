// Finding the external programs of the interop tests: a missing one is an error naming its Debian package, never a skip.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { MissingToolError, type ToolName } from './errors.js';

/**
 * The absolute path of a tool. Kamailio lives in /usr/sbin, which a non-root PATH often lacks,
 * so the sbin folders are searched too. Throws MissingToolError.
 */
export function findTool(tool: ToolName): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new MissingToolError(tool);
}
