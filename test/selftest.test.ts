// `offhook selftest` against the built addon: every check passes, and a GPIO "chip" that is no chip fails it.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runSelftest } from '../firmware/selftest.js';

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('offhook selftest', () => {
  it('passes G.711, Opus, the jitter buffer and the GPIO error on this machine', async () => {
    const out = sink();
    expect(await runSelftest({ output: out.stream })).toBe(0);
    for (const name of ['addon', 'g711', 'opus', 'jitter', 'gpio']) expect(out.text()).toMatch(new RegExp(`^ok {3}${name}: `, 'm'));
    expect(out.text()).toContain('selftest: 5 passed, 0 failed');
  });

  it('fails, naming the check, when the "missing" chip is a file that is no GPIO chip', async () => {
    const out = sink();
    expect(await runSelftest({ output: out.stream, missingChip: '/dev/null' })).toBe(1);
    expect(out.text()).toMatch(/^FAIL gpio: \/dev\/null: expected ENOENT from open, got ENOTTY/m);
    expect(out.text()).toContain('selftest: 4 passed, 1 failed');
  });

  it('fails at once when the addon cannot be loaded', async () => {
    const out = sink();
    expect(await runSelftest({ output: out.stream, addonPath: '/nonexistent/offhook_native.node' })).toBe(1);
    expect(out.text()).toMatch(/^FAIL addon: native addon missing/m);
  });
});
