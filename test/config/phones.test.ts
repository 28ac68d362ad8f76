// Several phones in one config (`phones`): each entry merged over the file, errors located in the entry, names and ports distinct; the emulator's built-in demo.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../firmware/config/config-error.js';
import { buildConfig, parseConfigSource } from '../../firmware/config/config.js';
import { DEMO_CONFIG_NAME, demoConfigText, loadDemoConfig } from '../../firmware/config/demo-config.js';
import { phoneConfigsOf } from '../../firmware/config/phones.js';
import { phoneConfigChecks } from '../../firmware/phone-setup.js';

function phonesOf(text: string, file = '/etc/offhook/offhook.yaml'): ReturnType<typeof phoneConfigsOf> {
  const local = parseConfigSource(text, file);
  return phoneConfigsOf({ config: buildConfig({ local }, phoneConfigChecks), local }, phoneConfigChecks);
}

function problems(text: string): string {
  try {
    phonesOf(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const TWO = `sip: { acceptCallsFrom: any, keepAliveS: 0 }
media: { codecs: [PCMU] }
phones:
  - accounts: [{ aor: "sip:100@127.0.0.1:5160", password: "", register: false }]
    sip: { listen: [{ transport: udp, address: 127.0.0.1, port: 5160 }] }
    media: { audio: { backend: file, capture: /tmp/mic.wav } }
  - name: desk-b
    accounts: [{ aor: "sip:101@127.0.0.1:5161", password: "", register: false }]
    sip: { listen: [{ transport: udp, address: 127.0.0.1, port: 5161 }] }
    stateDir: /tmp/b
`;

describe('phones in one config', () => {
  it('a config without phones is one phone, itself', () => {
    const [one, ...rest] = phonesOf('accounts: [{ aor: "sip:1003@pbx", password: x }]\n');
    expect(rest).toEqual([]);
    expect(one).toMatchObject({ name: undefined, stateSubdir: undefined });
    expect(one?.config.accounts[0]?.aor).toBe('sip:1003@pbx');
  });

  it('merges each entry over the file: mappings field by field, its own lists; names from the entry or the first account', () => {
    const [a, b] = phonesOf(TWO);
    expect(a?.name).toBe('100');
    expect(b?.name).toBe('desk-b');
    expect(a?.config.sip).toMatchObject({ acceptCallsFrom: 'any', keepAliveS: 0, listen: [{ transport: 'udp', address: '127.0.0.1', port: 5160 }] });
    expect(a?.config.media.codecs).toEqual(['PCMU']);
    expect(a?.config.media.audio).toMatchObject({ backend: 'file', capture: '/tmp/mic.wav' });
    expect(b?.config.media.audio).toBeUndefined();
    expect(a?.config.phones).toBeUndefined();
    // The state directory: a subdirectory of the shared one, unless the phone names its own.
    expect(a?.stateSubdir).toBe('100');
    expect(b?.stateSubdir).toBeUndefined();
    expect(b?.config.stateDir).toBe('/tmp/b');
  });

  it('locates a problem in the entry that sets the field, else in the file', () => {
    expect(problems(TWO.replace('backend: file, capture', 'backend: tape, capture'))).toMatch(/offhook\.yaml:6:\d+: phones\[0\]\.media\.audio\.backend: expected "alsa", "file", "browser", "null"/);
    expect(problems(TWO.replace('register: false }]\n    sip: { listen: [{ transport: udp, address: 127.0.0.1, port: 5161', 'register: nope }]\n    sip: { listen: [{ transport: udp, address: 127.0.0.1, port: 5161'))).toMatch(/:8:\d+: phones\[1\]\.accounts\[0\]\.register: expected true or false/);
    expect(problems(`${TWO}  - { board: rpi4 }\n`)).toMatch(/:11:\d+: phones\[2\]\.board: unknown field "board" \(a phone of its own may set: name, accounts/);
  });

  it('refuses two phones with the same name or the same fixed SIP port', () => {
    expect(problems(TWO.replace('name: desk-b', 'name: "100"'))).toContain('phones[0] is named "100" already');
    expect(problems(TWO.replace('port: 5161', 'port: 5160'))).toContain('phones[0] listens on udp 127.0.0.1:5160 already');
  });

  it('the built-in demo: phones 100 and 101 on 5160 and 5161, unregistered, taking calls from anyone, each number in the directory; 100 on the page\'s audio, 101 an echo test', () => {
    expect(demoConfigText()).toContain('"101": sip:101@127.0.0.1:5161');
    const loaded = loadDemoConfig(2, phoneConfigChecks);
    expect(loaded.file).toBeUndefined();
    const phones = phoneConfigsOf(loaded, phoneConfigChecks);
    expect(phones.map((p) => p.name)).toEqual(['100', '101']);
    for (const [i, p] of phones.entries()) {
      expect(p.config.accounts).toEqual([expect.objectContaining({ aor: `sip:${100 + i}@127.0.0.1:${5160 + i}`, register: false, mwi: 'off' })]);
      expect(p.config.sip.listen.map((l) => `${l.transport} ${l.address}:${l.port}`)).toEqual([`udp 127.0.0.1:${5160 + i}`, `tcp 127.0.0.1:${5160 + i}`]);
      expect(p.config.sip.acceptCallsFrom).toBe('any');
      expect(p.config.dialPlan.directory).toEqual({ '100': 'sip:100@127.0.0.1:5160', '101': 'sip:101@127.0.0.1:5161' });
      expect(p.stateSubdir).toBe(p.name);
    }
    expect(phones.map((p) => p.config.media.audio)).toEqual([
      { backend: 'browser', prerollMs: 40, bufferMs: 300 },
      { backend: 'file', loop: true, echo: { delayMs: 500, gainDb: 0 } },
    ]);
    const four = phoneConfigsOf(loadDemoConfig(4), phoneConfigChecks);
    expect(four.map((p) => p.name)).toEqual(['100', '101', '102', '103']);
    expect(four.map((p) => p.config.media.audio?.backend)).toEqual(['browser', 'file', 'file', 'file']);
    expect(phoneConfigsOf(loadDemoConfig(1), phoneConfigChecks)[0]?.config.media.audio?.backend).toBe('browser');
    expect(() => demoConfigText(9)).toThrow(RangeError);
    expect(DEMO_CONFIG_NAME).toContain('demo');
  });
});
