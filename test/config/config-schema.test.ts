// The configuration schema's sections: every field's default, and every refusal with its file:line:column message.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../firmware/config/config-error.js';
import { defaultConfig, loadConfig } from '../../firmware/config/config.js';

const dir = mkdtempSync(join(tmpdir(), 'offhook-config-schema-'));
let n = 0;

/** Writes the YAML to a file and loads it. */
function load(yaml: string) {
  const f = join(dir, `c${n++}.yaml`);
  writeFileSync(f, yaml);
  return loadConfig(f).config;
}

/** The problems of a YAML text, each as "line:column: path: message" (the file name taken off). */
function problems(yaml: string): string[] {
  const f = join(dir, `c${n++}.yaml`);
  writeFileSync(f, yaml);
  try {
    loadConfig(f);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n').map((l) => l.slice(f.length + 1));
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const ACCOUNT = 'accounts:\n  - aor: sip:1003@test.local\n    password: pw\n';

describe('config defaults', () => {
  it('fills every section of an empty file', () => {
    expect(defaultConfig()).toEqual({
      log: { level: 'info' },
      display: { timeFormat: '24h', dateFormat: 'dmy' },
      accounts: [],
      sip: {
        listen: [{ transport: 'udp', address: '0.0.0.0', port: 5060 }],
        tlsInsecure: false,
        keepAliveS: 30,
        userAgent: 'offhook',
        acceptCallsFrom: 'proxy',
        sessionTimer: { enabled: true, expiresS: 1800, minSeS: 90 },
        noAnswerTimeoutS: 60,
        rtpTimeoutS: 60,
      },
      media: {
        codecs: ['opus', 'PCMU', 'PCMA'],
        ptimeMs: 20,
        opus: { sampleRateHz: 16000, fec: true, dtx: false },
        jitter: { minDelayMs: 0, maxDelayMs: 300 },
        rtpPorts: { min: 16384, max: 32767 },
        paths: {
          handset: { micGainDb: 0, speakerGainDb: 0 },
          speaker: { micGainDb: 0, speakerGainDb: 0 },
          headset: { micGainDb: 0, speakerGainDb: 0 },
        },
      },
      tones: { country: 'US', ringTone: 'default' },
      dialPlan: { digitMap: '', interDigitTimeoutS: 4, firstDigitTimeoutS: 10, sendKey: '#', directory: {} },
      phonebook: [],
      features: {
        dnd: { mode: 'unavailable-480' },
        forward: { noAnswerAfterS: 20 },
        autoAnswer: { enabled: false, delayS: 0 },
        callWaiting: true,
      },
      stateDir: '/var/lib/offhook',
      provisioning: { intervalH: 24, timeoutS: 30 },
      emulator: { httpPort: 8080, httpAddress: '127.0.0.1' },
    });
  });

  it('gives an account srtp off, dtmf rfc4733, mwi subscribe, and no mailbox', () => {
    const [a] = load(ACCOUNT).accounts;
    expect(a).toMatchObject({ srtp: 'off', dtmf: 'rfc4733', mwi: 'subscribe' });
    expect(a?.mailbox).toBeUndefined();
    expect(a?.displayName).toBeUndefined();
  });

  it('reads every account field', () => {
    const [a] = load(`${ACCOUNT}    displayName: Front desk\n    srtp: mandatory\n    dtmf: info\n    mwi: listen\n    mailbox: "*97"\n    password: "0123"\n`.replace('    password: pw\n', '')).accounts;
    expect(a).toMatchObject({ displayName: 'Front desk', srtp: 'mandatory', dtmf: 'info', mwi: 'listen', mailbox: '*97', password: '0123' });
  });

  it('reads the media section: codec order, Opus, an ALSA device, a headset on its own device, per-path processing', () => {
    const media = load(`media:
  codecs: [PCMA, opus]
  ptimeMs: 40
  opus: { sampleRateHz: 48000, maxBitrateBps: 32000, fec: false, dtx: true }
  audio: { backend: alsa, capture: "plughw:CARD=wm8960soundcard,DEV=0", playback: "plughw:CARD=wm8960soundcard,DEV=0" }
  paths:
    headset:
      audio: { backend: alsa, capture: "plughw:CARD=Headset", playback: "plughw:CARD=Headset", rateHz: 48000 }
      micGainDb: 6
    speaker:
      speakerGainDb: -3.5
      aec: { enabled: true, tailMs: 250 }
      noiseSuppressionDb: -25
      agc: { enabled: false }
`).media;
    expect(media.codecs).toEqual(['PCMA', 'opus']);
    expect(media.ptimeMs).toBe(40);
    expect(media.opus).toEqual({ sampleRateHz: 48000, maxBitrateBps: 32000, fec: false, dtx: true });
    expect(media.audio).toEqual({ backend: 'alsa', capture: 'plughw:CARD=wm8960soundcard,DEV=0', playback: 'plughw:CARD=wm8960soundcard,DEV=0', periodMs: 10, periods: 3 });
    expect(media.paths.headset).toEqual({
      audio: { backend: 'alsa', capture: 'plughw:CARD=Headset', playback: 'plughw:CARD=Headset', periodMs: 10, periods: 3, rateHz: 48000 },
      micGainDb: 6,
      speakerGainDb: 0,
    });
    expect(media.paths.speaker).toEqual({ micGainDb: 0, speakerGainDb: -3.5, aec: { enabled: true, tailMs: 250 }, noiseSuppressionDb: -25, agc: { enabled: false } });
    expect(media.paths.handset).toEqual({ micGainDb: 0, speakerGainDb: 0 });
  });

  it('reads the emulator audio backends: WAV files (looping by default) and null', () => {
    expect(load('media:\n  audio: { backend: file, capture: /tmp/mic.wav }\n').media.audio).toEqual({ backend: 'file', capture: '/tmp/mic.wav', loop: true });
    expect(load('media:\n  audio: { backend: file, playback: /tmp/out.wav, loop: false }\n').media.audio).toEqual({ backend: 'file', playback: '/tmp/out.wav', loop: false });
    expect(load('media:\n  audio: { backend: "null" }\n').media.audio).toEqual({ backend: 'null' });
    expect(load('media:\n  audio: { backend: browser }\n').media.audio).toEqual({ backend: 'browser', prerollMs: 40, bufferMs: 300 });
    expect(load('media:\n  audio: { backend: browser, prerollMs: 120, bufferMs: 600 }\n').media.audio).toEqual({ backend: 'browser', prerollMs: 120, bufferMs: 600 });
    expect(load('media:\n  audio: { backend: file, echo: {} }\n').media.audio).toEqual({ backend: 'file', loop: true, echo: { delayMs: 500, gainDb: 0 } });
  });

  it('reads tones, the ring tone (a country cadence or a WAV), the dial plan', () => {
    expect(load('tones: { country: DE, ringTone: UK }\n').tones).toEqual({ country: 'DE', ringTone: 'UK' });
    expect(load('tones: { ringTone: /usr/share/offhook/ring.wav }\n').tones).toEqual({ country: 'US', ringTone: '/usr/share/offhook/ring.wav' });
    expect(load('dialPlan: { digitMap: "[2-9]xx|0|911|*xx|1[2-9]xx[2-9]xxxxxxT", interDigitTimeoutS: 2.5, sendKey: none }\n').dialPlan).toEqual({
      digitMap: '[2-9]xx|0|911|*xx|1[2-9]xx[2-9]xxxxxxT',
      interDigitTimeoutS: 2.5,
      firstDigitTimeoutS: 10,
      sendKey: 'none',
      directory: {},
    });
    expect(load('dialPlan:\n  directory: { "101": "sip:101@192.168.1.21:5060" }\n').dialPlan.directory).toEqual({ '101': 'sip:101@192.168.1.21:5060' });
  });

  it('reads the phonebook and the features', () => {
    const c = load(`phonebook:
  - { name: Alice, number: "1002", speedDial: 2 }
  - { name: Reception, number: "+49 30 1234-56" }
features:
  dnd: { mode: busy-486 }
  forward: { always: "1005", busy: sip:vm@pbx.example.com }
  autoAnswer: { enabled: true, delayS: 1.5, onlyFrom: ["1000", "sip:intercom@pbx.example.com"] }
  hotline: { number: "911" }
  callWaiting: false
`);
    expect(c.phonebook).toEqual([
      { name: 'Alice', number: '1002', speedDial: 2 },
      { name: 'Reception', number: '+49 30 1234-56' },
    ]);
    expect(c.features).toEqual({
      dnd: { mode: 'busy-486' },
      forward: { always: '1005', busy: 'sip:vm@pbx.example.com', noAnswerAfterS: 20 },
      autoAnswer: { enabled: true, delayS: 1.5, onlyFrom: ['1000', 'sip:intercom@pbx.example.com'] },
      hotline: { number: '911', delayS: 0 },
      callWaiting: false,
    });
  });

  it('reads the sip additions and provisioning', () => {
    const c = load(`sip:
  acceptCallsFrom: any
  sessionTimer: { enabled: false, expiresS: 600, minSeS: 120 }
  noAnswerTimeoutS: 30
  rtpTimeoutS: 0
stateDir: /data/offhook
provisioning:
  url: "https://prov.example.com/phones/{mac}.yaml"
  intervalH: 0.5
  dhcpOption66File: /run/offhook/dhcp-option-66
  caFile: /etc/offhook/prov-ca.pem
  username: phone
  password: "0042"
  timeoutS: 10
  cacheFile: /data/offhook/prov.yaml
`);
    expect(c.sip).toMatchObject({ acceptCallsFrom: 'any', sessionTimer: { enabled: false, expiresS: 600, minSeS: 120 }, noAnswerTimeoutS: 30, rtpTimeoutS: 0 });
    expect(c.stateDir).toBe('/data/offhook');
    expect(c.provisioning).toEqual({
      url: 'https://prov.example.com/phones/{mac}.yaml',
      intervalH: 0.5,
      dhcpOption66File: '/run/offhook/dhcp-option-66',
      caFile: '/etc/offhook/prov-ca.pem',
      username: 'phone',
      password: '0042',
      timeoutS: 10,
      cacheFile: '/data/offhook/prov.yaml',
    });
  });
});

describe('config refusals name the field, the line and the column', () => {
  const cases: [string, string, string][] = [
    // accounts
    ['srtp', `${ACCOUNT}    srtp: always\n`, '4:11: accounts[0].srtp: expected one of "off", "optional", "mandatory", got "always"'],
    ['dtmf', `${ACCOUNT}    dtmf: inband\n`, '4:11: accounts[0].dtmf: expected one of "rfc4733", "info", got "inband"'],
    ['mwi', `${ACCOUNT}    mwi: poll\n`, '4:10: accounts[0].mwi: expected one of "subscribe", "listen", "off", got "poll"'],
    ['mailbox', `${ACCOUNT}    mailbox: voice mail\n`, '4:14: accounts[0].mailbox: expected a number (digits, * and #, an optional leading +) or a SIP URI, got "voice mail"'],
    ['a duplicate AOR', `${ACCOUNT}  - aor: SIP:1003@test.local\n    password: x\n`, '4:10: accounts[1].aor: the same AOR as accounts[0]'],
    // sip
    ['acceptCallsFrom', 'sip:\n  acceptCallsFrom: all\n', '2:20: sip.acceptCallsFrom: expected one of "proxy", "any", got "all"'],
    ['sessionTimer.expiresS', 'sip:\n  sessionTimer: { expiresS: 60 }\n', '2:29: sip.sessionTimer.expiresS: expected an integer from 90 to 86400 (s), got 60'],
    ['minSeS above expiresS', 'sip:\n  sessionTimer:\n    minSeS: 3600\n', '3:13: sip.sessionTimer.minSeS: must not exceed sessionTimer.expiresS (1800 s), got 3600'],
    ['noAnswerTimeoutS', 'sip:\n  noAnswerTimeoutS: 0\n', '2:21: sip.noAnswerTimeoutS: expected an integer from 5 to 600 (s), got 0'],
    ['rtpTimeoutS', 'sip:\n  rtpTimeoutS: -1\n', '2:16: sip.rtpTimeoutS: expected an integer from 0 to 3600 (s), got -1'],
    // media
    ['G722', 'media:\n  codecs: [opus, G722]\n', '2:18: media.codecs[1]: G722 is not available: this build has no G.722 codec (no G.722 library is linked); use opus for wideband audio (one of "opus", "PCMU", "PCMA")'],
    ['an unknown codec', 'media:\n  codecs:\n    - PCMU\n    - speex\n', '4:7: media.codecs[1]: expected one of "opus", "PCMU", "PCMA", got "speex"'],
    ['a codec twice', 'media:\n  codecs: [PCMU, opus, PCMU]\n', '2:24: media.codecs[2]: duplicate value "PCMU"'],
    ['no codec', 'media:\n  codecs: []\n', '2:11: media.codecs: expected a list of at least 1 (one of "opus", "PCMU", "PCMA"), got "a list of 0"'],
    ['ptimeMs', 'media:\n  ptimeMs: 30\n', '2:12: media.ptimeMs: expected one of 10, 20, 40, 60, got 30'],
    ['opus.sampleRateHz', 'media:\n  opus:\n    sampleRateHz: 44100\n', '3:19: media.opus.sampleRateHz: expected one of 8000, 16000, 48000, got 44100'],
    ['opus.maxBitrateBps', 'media:\n  opus: { maxBitrateBps: 1000 }\n', '2:26: media.opus.maxBitrateBps: expected an integer from 6000 to 510000 (bit/s), got 1000'],
    ['opus.fec', 'media:\n  opus: { fec: on }\n', '2:16: media.opus.fec: expected true or false, got "on"'],
    ['jitter min above max', 'media:\n  jitter: { minDelayMs: 500 }\n', '2:25: media.jitter.minDelayMs: must not exceed jitter.maxDelayMs (300 ms), got 500'],
    ['an odd first RTP port', 'media:\n  rtpPorts: { min: 10001, max: 20000 }\n', '2:20: media.rtpPorts.min: must be even (RTP on even ports, RFC 3550 §11), got 10001'],
    ['an RTP port range upside down', 'media:\n  rtpPorts: { min: 20000, max: 10000 }\n', '2:32: media.rtpPorts.max: must be above rtpPorts.min (20000), got 10000'],
    ['an ALSA device without playback', 'media:\n  audio: { backend: alsa, capture: "hw:0" }\n', '2:10: media.audio.playback: missing required field "playback" (a non-empty string)'],
    ['an unknown audio backend', 'media:\n  audio:\n    backend: pulse\n', '3:14: media.audio.backend: expected "alsa", "file", "browser", "null", got "pulse"'],
    ['browser audio with a buffer no larger than its pre-roll', 'media:\n  audio: { backend: browser, prerollMs: 200, bufferMs: 210 }\n', '2:56: media.audio.bufferMs: must be at least audio.prerollMs + 20 (220 ms), got 210'],
    ['an echo that is louder than what was heard', 'media:\n  audio: { backend: file, echo: { gainDb: 6 } }\n', '2:43: media.audio.echo.gainDb: expected a number from -60 to 0 (dB), got 6'],
    ['a gain out of range', 'media:\n  paths:\n    handset: { micGainDb: 40 }\n', '3:27: media.paths.handset.micGainDb: expected a number from -30 to 30 (dB), got 40'],
    ['noise suppression above 0', 'media:\n  paths:\n    speaker:\n      noiseSuppressionDb: 5\n', '4:27: media.paths.speaker.noiseSuppressionDb: expected an integer from -60 to 0 (dB), got 5'],
    ['aec without enabled', 'media:\n  paths:\n    headset:\n      aec: { tailMs: 100 }\n', '4:12: media.paths.headset.aec.enabled: missing required field "enabled" (true or false)'],
    ['agc level', 'media:\n  paths:\n    speaker:\n      agc: { enabled: true, levelDbfs: 3 }\n', '4:40: media.paths.speaker.agc.levelDbfs: expected a number from -60 to 0 (dBFS), got 3'],
    ['an unknown audio path', 'media:\n  paths:\n    car: {}\n', '3:10: media.paths.car: unknown field "car" (known: handset, speaker, headset)'],
    // tones
    ['tones.country', 'tones:\n  country: IT\n', '2:12: tones.country: expected one of "US", "UK", "DE", "FR", "JP", got "IT"'],
    [
      'a ring tone that is neither a cadence nor a WAV path',
      'tones:\n  ringTone: ring.wav\n',
      '2:13: tones.ringTone: expected one of "default", "US", "UK", "DE", "FR", "JP", or an absolute path to a .wav file, got "ring.wav"',
    ],
    // dial plan
    ['a digit map with a letter', 'dialPlan:\n  digitMap: "[2-9]xx|abc"\n', '2:13: dialPlan.digitMap: expected a digit map of 0-9 * # x T [ ] - . | ( ), got "[2-9]xx|abc"'],
    ['interDigitTimeoutS', 'dialPlan: { interDigitTimeoutS: 0 }\n', '1:33: dialPlan.interDigitTimeoutS: expected a number from 1 to 60 (s), got 0'],
    ['sendKey', 'dialPlan:\n  sendKey: "!"\n', '2:12: dialPlan.sendKey: expected one of "#", "*", "none", got "!"'],
    ['directory number', 'dialPlan:\n  directory: { bob: "sip:bob@host" }\n', '2:21: dialPlan.directory.bob: "bob" is not a valid number (digits, * and #)'],
    ['directory URI', 'dialPlan:\n  directory: { "101": "192.168.1.21" }\n', '2:23: dialPlan.directory.101: expected a SIP URI like "sip:101@192.168.1.21", got "192.168.1.21"'],
    // phonebook
    ['a phonebook entry without a number', 'phonebook:\n  - { name: Alice, number: "1002" }\n  - { name: Bob }\n', '3:5: phonebook[1].number: missing required field "number" (a non-empty string)'],
    ['a speed dial out of range', 'phonebook:\n  - { name: Alice, number: "1002", speedDial: 100 }\n', '2:47: phonebook[0].speedDial: expected an integer from 0 to 99, got 100'],
    [
      'a speed dial twice',
      'phonebook:\n  - { name: Alice, number: "1002", speedDial: 2 }\n  - { name: Bob, number: "1003", speedDial: 2 }\n',
      '3:45: phonebook[1].speedDial: speed dial 2 is already used by phonebook[0] (Alice)',
    ],
    // features
    ['dnd.mode', 'features:\n  dnd: { mode: reject }\n', '2:16: features.dnd.mode: expected one of "unavailable-480", "busy-486", got "reject"'],
    ['a forward target', 'features:\n  forward:\n    always: bob\n', '3:13: features.forward.always: expected a number (digits, * and #, an optional leading +) or a SIP URI, got "bob"'],
    ['forward.noAnswerAfterS', 'features:\n  forward: { noAnswerAfterS: 0 }\n', '2:30: features.forward.noAnswerAfterS: expected an integer from 1 to 300 (s), got 0'],
    ['autoAnswer.delayS', 'features:\n  autoAnswer: { enabled: true, delayS: 120 }\n', '2:40: features.autoAnswer.delayS: expected a number from 0 to 60 (s), got 120'],
    ['autoAnswer.onlyFrom empty', 'features:\n  autoAnswer:\n    onlyFrom: []\n', '3:15: features.autoAnswer.onlyFrom: expected a list of at least 1 (a number (digits, * and #, an optional leading +) or a SIP URI), got "a list of 0"'],
    ['a hotline without a number', 'features:\n  hotline: { delayS: 2 }\n', '2:12: features.hotline.number: missing required field "number" (a number (digits, * and #, an optional leading +) or a SIP URI)'],
    ['callWaiting', 'features:\n  callWaiting: maybe\n', '2:16: features.callWaiting: expected true or false, got "maybe"'],
    // provisioning and state
    ['a provisioning URL that is not http(s)', 'provisioning:\n  url: tftp://10.0.0.1/\n', '2:8: provisioning.url: expected an http:// or https:// URL, got "tftp://10.0.0.1/"'],
    ['intervalH', 'provisioning: { intervalH: -1 }\n', '1:28: provisioning.intervalH: expected a number from 0 to 8760 (h), got -1'],
    ['a relative DHCP option 66 file', 'provisioning:\n  dhcpOption66File: run/dhcp\n', '2:21: provisioning.dhcpOption66File: expected an absolute file path, got "run/dhcp"'],
    ['timeoutS', 'provisioning:\n  timeoutS: 0\n', '2:13: provisioning.timeoutS: expected a number from 1 to 600 (s), got 0'],
    ['a relative state directory', 'stateDir: state\n', '1:11: stateDir: expected an absolute directory path, got "state"'],
  ];

  it.each(cases)('%s', (_name, yaml, expected) => {
    expect(problems(yaml)).toEqual([expected]);
  });

  it('never shows a password in a refusal, even one YAML took for a number', () => {
    const lines = problems('accounts:\n  - aor: sip:1003@test.local\n    password: 918273\nprovisioning:\n  password: 645312\n');
    expect(lines).toEqual([
      '3:15: accounts[0].password: expected a string (quote a secret made of digits: "0123"), got a number (value not shown)',
      '5:13: provisioning.password: expected a string (quote a secret made of digits: "0123"), got a number (value not shown)',
    ]);
    expect(lines.join('\n')).not.toMatch(/918273|645312/);
  });

  it('runs extra checks from the composition root and locates their issues', () => {
    const f = join(dir, 'checks.yaml');
    writeFileSync(f, 'dialPlan:\n  digitMap: "[9-2]x"\n');
    const checks = () => [{ path: ['dialPlan', 'digitMap'], message: 'column 2: range from 9 down to 2' }];
    expect(() => loadConfig(f, { checks })).toThrow(`${f}:2:13: dialPlan.digitMap: column 2: range from 9 down to 2`);
  });
});
