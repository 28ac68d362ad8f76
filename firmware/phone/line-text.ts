// The account line of the idle screen: an AOR's extension and its registration state in words (registered / registering / failed with the reason).
import type { LineStatus } from '../sip/ua/index.js';

/** The user part of an AOR ("sip:1003@test.local" → "1003"), what a desk phone shows as its line. */
export function lineName(aor: string): string {
  const m = /^sips?:([^@;]+)@/i.exec(aor);
  return m?.[1] ?? aor.replace(/^sips?:/i, '');
}

/** One LCD row for an account: "Registered 1003", "Registering 1003", "1003: wrong password (401)", "Line 1003" (register: false: direct calls, or a server that does not want REGISTER). */
export function lineText(aor: string, line: LineStatus): string {
  const name = lineName(aor);
  switch (line.state) {
    case 'registered':
      return `Registered ${name}`;
    case 'registering':
      return `Registering ${name}`;
    case 'failed':
      return `${name}: ${line.reason}`;
    case 'off':
      return `Line ${name}`;
  }
}
