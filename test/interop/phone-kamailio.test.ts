// The whole phone (config file, emulated board, LCD) registering to a real Kamailio: the LCD shows the line's state.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBoard } from '../../firmware/config/board.js';
import { loadConfig } from '../../firmware/config/config.js';
import { startPhone, type RunningPhone } from '../../firmware/main.js';
import { RealClock } from '../../firmware/util/clock.js';
import { silentLogger } from '../../firmware/util/log.js';
import { startKamailio, type KamailioInstance } from './support/index.js';
import { waitUntil } from './support/user-agent.js';

let kamailio: KamailioInstance | undefined;
const dir = mkdtempSync(join(tmpdir(), 'offhook-phone-kam-'));

beforeAll(async () => {
  kamailio = await startKamailio({ ctl: true });
});
afterAll(async () => {
  await kamailio?.stop();
});

async function phoneWith(user: string, password: string): Promise<RunningPhone> {
  const k = kamailio!;
  const file = join(dir, `offhook-${user}.yaml`);
  writeFileSync(
    file,
    [
      'accounts:',
      `  - aor: sip:${user}@test.local`,
      `    password: ${password}`,
      `    registrar: sip:${k.hostPort}`,
      'sip:',
      '  listen:',
      '    - { transport: udp, address: 127.0.0.1, port: 0 }',
      '',
    ].join('\n'),
  );
  return startPhone({
    config: loadConfig(file).config,
    board: loadBoard('emulator').profile,
    log: silentLogger(),
    clock: new RealClock(),
    stdin: new PassThrough() as unknown as NodeJS.ReadStream,
    stdout: new PassThrough() as unknown as NodeJS.WriteStream,
    terminal: false,
    signals: false,
  });
}

describe('the phone on Kamailio', () => {
  it('registers from its config file and the emulated LCD shows "Registered 1002"; stop unregisters', async () => {
    const phone = await phoneWith('1002', 'pw1002');
    const lcd = (): string => phone.hardware.panel?.lcdLines()[0]?.trimEnd() ?? '';
    await waitUntil(() => lcd() === 'Registered 1002', { timeoutMs: 8000, what: () => `the LCD to show Registered 1002 (it shows "${lcd()}"; line ${JSON.stringify(phone.ua?.snapshot().accounts[0]?.line)})` });
    expect((await kamailio!.locationContacts()).filter((c) => c.aor === '1002')).toHaveLength(1);
    await phone.stop();
    expect((await kamailio!.locationContacts()).filter((c) => c.aor === '1002')).toEqual([]);
  });

  it('a wrong password shows the reason on the LCD', async () => {
    const phone = await phoneWith('1004', 'not-the-password');
    const lcd = (): string => phone.hardware.panel?.lcdLines()[0]?.trimEnd() ?? '';
    await waitUntil(() => lcd().startsWith('1004: wrong user'), { timeoutMs: 8000, what: 'the LCD to show the failure' });
    await phone.stop();
  });
});
