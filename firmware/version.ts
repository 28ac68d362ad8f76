// The firmware version: inlined by the esbuild bundle, read from package.json when running from source.
import { readFileSync } from 'node:fs';

declare const OFFHOOK_VERSION: string | undefined;

export function firmwareVersion(): string {
  if (typeof OFFHOOK_VERSION === 'string') return OFFHOOK_VERSION;
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
