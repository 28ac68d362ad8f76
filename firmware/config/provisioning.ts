// Provisioning: fetches the phone's config from an HTTP(S) server at boot and every few hours, validates it, and keeps the last good one.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { dirname } from 'node:path';
import { removeStaleTempFiles, writeFileAtomic } from '../util/atomic-file.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import type { Logger } from '../util/log.js';
import { ConfigError } from './config-error.js';
import type { OffhookConfig } from './config-schema.js';
import { buildConfig, defaultConfig, parseConfigSource, provisionedCacheFile, type ConfigCheck, type LoadedConfig } from './config.js';
import { createHttpFetch, FetchError, type ProvisioningFetch } from './provisioning-fetch.js';
import type { YamlSource } from './yaml-file.js';

/** A config is a few kilobytes; anything past this is not one. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
export const MAX_REDIRECTS = 5;
/** The first retry after a failed fetch; it doubles up to the fetch interval (1 h when fetching at boot only). */
export const RETRY_MIN_MS = 60_000;
const HOUR_MS = 3_600_000;

/** The validators of the last good fetch, kept beside the cached config (<cacheFile>.meta.json). */
export interface ProvisioningMeta {
  /** The URL fetched (without credentials); validators are sent only to the same URL. */
  url: string;
  etag?: string | undefined;
  lastModified?: string | undefined;
  /** SHA-256 of the cached config's text: validators of a cache that is gone or was replaced are not sent. */
  sha256: string;
}

export type ProvisioningOutcome =
  /** A new config was fetched, validated, cached and emitted. */
  | { kind: 'updated'; url: string; config: OffhookConfig }
  /** 304 Not Modified, or the same config again. */
  | { kind: 'unchanged'; url: string }
  /** The fetched config is broken; the last good one stays. */
  | { kind: 'refused'; url: string; error: ConfigError }
  /** No usable answer (network, timeout, HTTP error status, too large); retried sooner than the interval. */
  | { kind: 'failed'; url: string | undefined; reason: string; status?: number | undefined }
  /** No URL: neither provisioning.url nor a DHCP option 66 file with one. */
  | { kind: 'disabled' };

export type ProvisionerEvents = {
  /** The merged config changed: the phone applies it. */
  config: [config: OffhookConfig, outcome: Extract<ProvisioningOutcome, { kind: 'updated' }>];
  refused: [error: ConfigError, outcome: Extract<ProvisioningOutcome, { kind: 'refused' }>];
  unchanged: [outcome: Extract<ProvisioningOutcome, { kind: 'unchanged' }>];
  failed: [outcome: Extract<ProvisioningOutcome, { kind: 'failed' }>];
  /** Every attempt's outcome, 'disabled' included. */
  outcome: [outcome: ProvisioningOutcome];
};

export interface ProvisionerOptions {
  clock: Clock;
  log: Logger;
  /**
   * What the phone runs on at start: loadConfig(file, { provisioned: true }) — the local file over
   * the cached provisioned config. Fetched configs are merged under the same local file.
   */
  loaded: Pick<LoadedConfig, 'config' | 'local' | 'provisioned'>;
  /** Default: node:http / node:https (createHttpFetch) on this clock. */
  fetch?: ProvisioningFetch | undefined;
  /** For `{mac}` in the URL: 12 hex digits, any case and separators. Default: primaryMac(). */
  mac?: string | undefined;
  /** Uniform in [0, 1), for the interval's jitter. Default Math.random. */
  random?: (() => number) | undefined;
  /** Extra checks of the merged config (see ConfigCheck), the same as loadConfig's. */
  checks?: ConfigCheck | undefined;
  /** Where the provisioned config is cached. Default: provisionedCacheFile() of the local file's config. */
  cacheFile?: string | undefined;
  maxBytes?: number | undefined;
  maxRedirects?: number | undefined;
  retryMinMs?: number | undefined;
}

/**
 * The MAC address commercial phones name their config by: 12 lower-case hex digits, of the wired
 * interface when there is one (eth0, end0, en*), else the first other interface with a real address.
 */
export function primaryMac(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string | undefined {
  const candidates = Object.entries(interfaces)
    .flatMap(([name, infos]) => (infos ?? []).map((i) => ({ name, mac: i.mac, internal: i.internal })))
    .filter((c) => !c.internal && c.mac !== '00:00:00:00:00:00');
  const wired = candidates.find((c) => /^(eth|end|en)/.test(c.name));
  const pick = wired ?? candidates[0];
  return pick ? normalizeMac(pick.mac) : undefined;
}

/** "00:15:65:AB:cd:01" → "001565abcd01"; undefined when it is not 12 hex digits. */
export function normalizeMac(mac: string): string | undefined {
  const hex = mac.replace(/[:\-.\s]/g, '').toLowerCase();
  return /^[0-9a-f]{12}$/.test(hex) ? hex : undefined;
}

/**
 * The provisioning URL in DHCP option 66 ("TFTP server name"), as the system's DHCP hook wrote it:
 * a URL (http:// or https://), or a bare host (with a port or a path) fetched over http. A bare
 * host gets a "/" path, so that the MAC-named file is fetched from the server's root. Returns
 * undefined for an empty value; throws Error with the reason for one that cannot be used (tftp://).
 */
export function urlFromDhcpOption66(text: string): string | undefined {
  const value = (text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '').trim().replace(/^["']|["']$/g, '');
  if (value === '') return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  if (scheme && !/^https?$/i.test(scheme[1] ?? '')) throw new Error(`${scheme[1] ?? ''}:// is not supported (http:// and https:// are)`);
  const url = new URL(scheme ? value : `http://${value}`);
  return url.toString();
}

/**
 * The URL to fetch: `{mac}` replaced by the MAC address, "{mac}.yaml" appended to a URL that ends in
 * "/" (a directory, as a DHCP server's bare host gives), and user:password taken out into basic
 * authentication (provisioning.username/password, when set, win).
 */
export function provisioningRequestUrl(template: string, mac: string | undefined): string {
  const u = new URL(template);
  const directory = !template.includes('{mac}') && u.pathname.endsWith('/') && u.search === '' && u.hash === '';
  if (!directory && !template.includes('{mac}')) return u.toString();
  if (mac === undefined) throw new Error('the URL needs the MAC address ({mac}) but none is known');
  if (!directory) return new URL(template.replaceAll('{mac}', mac)).toString();
  u.pathname += `${mac}.yaml`;
  return u.toString();
}

/** The URL as it may be logged: no user:password, and the query (which may hold a token) elided. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    const query = u.search !== '';
    u.search = '';
    return `${u.toString()}${query ? '?…' : ''}`;
  } catch {
    return '(not a URL)';
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isMeta(v: unknown): v is ProvisioningMeta {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return (
    typeof m.url === 'string' &&
    typeof m.sha256 === 'string' &&
    (m.etag === undefined || typeof m.etag === 'string') &&
    (m.lastModified === undefined || typeof m.lastModified === 'string')
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * Fetches the config from the provisioning server at start() and every provisioning.intervalH
 * (±10 % jitter), as commercial desk phones do:
 * - the URL is provisioning.url, else the one in the DHCP option 66 file; `{mac}` becomes the MAC;
 * - If-None-Match / If-Modified-Since carry the last good fetch's validators: 304 keeps the config;
 * - a 200 body is parsed and validated with the same schema and checks as the local file (errors name
 *   the URL, the field, the line and the column of the fetched document), then merged under the local
 *   file (buildConfig: the local file's explicit fields win);
 * - a valid one is written atomically to the cache file (with its validators beside it, in
 *   <cacheFile>.meta.json) and, when the merged config changed, emitted as 'config';
 * - a broken one is refused with a log line naming the error ('refused'): the last good config stays;
 * - a failure (network, timeout, HTTP error, oversized body) is retried after 1 min, doubling up to
 *   the interval.
 * Settings come from the config in force, so a provisioned config may move the phone to another URL
 * or interval. Passwords (the accounts', basic authentication) never reach the log.
 */
export class Provisioner {
  private readonly events = new Emitter<ProvisionerEvents>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly local: YamlSource | undefined;
  private readonly fetch: ProvisioningFetch;
  private readonly mac: string | undefined;
  private readonly random: () => number;
  private readonly checks: ConfigCheck | undefined;
  private readonly maxBytes: number;
  private readonly maxRedirects: number;
  private readonly retryMinMs: number;
  readonly cacheFile: string;
  readonly metaFile: string;
  private config: OffhookConfig;
  private provisionedText: string | undefined;
  private meta: ProvisioningMeta | undefined;
  private timer: TimerHandle | undefined;
  private inFlight: Promise<ProvisioningOutcome> | undefined;
  private failures = 0;
  private running = false;
  private nextAt: number | undefined;

  constructor(o: ProvisionerOptions) {
    this.clock = o.clock;
    this.log = o.log.child({ mod: 'config/provisioning' });
    this.local = o.loaded.local;
    this.config = o.loaded.config;
    this.provisionedText = o.loaded.provisioned ? o.loaded.provisioned.text : undefined;
    this.fetch = o.fetch ?? createHttpFetch({ clock: o.clock });
    this.mac = o.mac !== undefined ? normalizeMac(o.mac) : primaryMac();
    this.random = o.random ?? Math.random;
    this.checks = o.checks;
    this.maxBytes = o.maxBytes ?? MAX_CONFIG_BYTES;
    this.maxRedirects = o.maxRedirects ?? MAX_REDIRECTS;
    this.retryMinMs = o.retryMinMs ?? RETRY_MIN_MS;
    // The cache's place comes from the local file alone: a provisioned config must not move its own cache.
    this.cacheFile = o.cacheFile ?? provisionedCacheFile(this.local ? buildConfig({ local: this.local }, o.checks) : defaultConfig());
    this.metaFile = `${this.cacheFile}.meta.json`;
  }

  on<K extends keyof ProvisionerEvents>(event: K, listener: (...args: ProvisionerEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** The config in force: the local file over the last good provisioned one. */
  get current(): OffhookConfig {
    return this.config;
  }

  /** When the next fetch is due, on the clock's now(); undefined when none is scheduled. */
  get nextFetchAt(): number | undefined {
    return this.nextAt;
  }

  /** Reads the cached validators and fetches; resolves with the first attempt's outcome, then fetches on schedule. */
  async start(): Promise<ProvisioningOutcome> {
    if (this.running) return this.inFlight ?? this.fetchNow();
    this.running = true;
    await this.loadCache();
    return this.fetchNow();
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.nextAt = undefined;
  }

  /** Fetches now (a second call while one runs gets the same attempt); the schedule restarts from its end. */
  fetchNow(): Promise<ProvisioningOutcome> {
    this.inFlight ??= this.attempt().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async loadCache(): Promise<void> {
    for (const f of [this.cacheFile, this.metaFile]) {
      const removed = await removeStaleTempFiles(f).catch(() => []);
      if (removed.length > 0) this.log.info({ removed }, 'removed temp files of an interrupted write');
    }
    if (this.provisionedText === undefined) {
      // The cache exists but loadConfig() set it aside (or was not asked for it): no validators either.
      return;
    }
    try {
      const data: unknown = JSON.parse(await readFile(this.metaFile, 'utf8'));
      if (isMeta(data) && data.sha256 === sha256(this.provisionedText)) this.meta = data;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') this.log.warn({ file: this.metaFile, err: err instanceof Error ? err.message : String(err) }, 'provisioning validators unreadable; fetching unconditionally');
    }
  }

  /** The URL template: provisioning.url, else DHCP option 66 from its file. */
  private async urlTemplate(): Promise<string | undefined> {
    const p = this.config.provisioning;
    if (p.url !== undefined) return p.url;
    if (p.dhcpOption66File === undefined) return undefined;
    let text: string;
    try {
      text = await readFile(p.dhcpOption66File, 'utf8');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') this.log.warn({ file: p.dhcpOption66File, code: errnoCode(err) }, 'DHCP option 66 file unreadable');
      return undefined;
    }
    try {
      return urlFromDhcpOption66(text);
    } catch (err) {
      this.log.warn({ file: p.dhcpOption66File, reason: err instanceof Error ? err.message : String(err) }, 'DHCP option 66 holds no usable URL');
      return undefined;
    }
  }

  private async attempt(): Promise<ProvisioningOutcome> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.nextAt = undefined;
    const outcome = await this.fetchOnce().catch((err: unknown): ProvisioningOutcome => {
      // Anything unexpected (a bug, a full disk while reading) must not stop the schedule.
      this.log.error({ err }, 'provisioning attempt failed');
      return { kind: 'failed', url: undefined, reason: err instanceof Error ? err.message : String(err) };
    });
    this.failures = outcome.kind === 'failed' ? this.failures + 1 : 0;
    if (this.running) this.schedule(outcome);
    switch (outcome.kind) {
      case 'updated':
        this.events.emit('config', outcome.config, outcome);
        break;
      case 'refused':
        this.events.emit('refused', outcome.error, outcome);
        break;
      case 'unchanged':
        this.events.emit('unchanged', outcome);
        break;
      case 'failed':
        this.events.emit('failed', outcome);
        break;
      case 'disabled':
        break;
    }
    this.events.emit('outcome', outcome);
    return outcome;
  }

  private schedule(outcome: ProvisioningOutcome): void {
    const intervalMs = this.config.provisioning.intervalH * HOUR_MS;
    let delay: number | undefined;
    if (outcome.kind === 'failed') {
      const cap = intervalMs > 0 ? intervalMs : HOUR_MS;
      delay = Math.min(cap, this.retryMinMs * 2 ** Math.min(this.failures - 1, 30));
    } else if (intervalMs > 0) {
      // ±10 %: phones powered up together (after an outage) must not all fetch at the same minute.
      delay = intervalMs * (0.9 + 0.2 * this.random());
    }
    if (delay === undefined) return;
    this.nextAt = this.clock.now() + delay;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.fetchNow();
    }, delay);
  }

  private async fetchOnce(): Promise<ProvisioningOutcome> {
    const template = await this.urlTemplate();
    if (template === undefined) {
      this.log.debug('no provisioning URL (neither provisioning.url nor DHCP option 66)');
      return { kind: 'disabled' };
    }
    let target: URL;
    try {
      target = new URL(provisioningRequestUrl(template, this.mac));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.log.warn({ url: redactUrl(template), reason }, 'provisioning URL unusable');
      return { kind: 'failed', url: redactUrl(template), reason };
    }
    const p = this.config.provisioning;
    const username = p.username ?? (target.username !== '' ? safeDecode(target.username) : undefined);
    const password = p.username !== undefined ? (p.password ?? '') : safeDecode(target.password);
    target.username = '';
    target.password = '';
    const url = target.toString();
    const shown = redactUrl(url);
    const headers: Record<string, string> = {};
    if (username !== undefined) headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    if (this.meta && this.meta.url === url && this.provisionedText !== undefined) {
      if (this.meta.etag !== undefined) headers['if-none-match'] = this.meta.etag;
      if (this.meta.lastModified !== undefined) headers['if-modified-since'] = this.meta.lastModified;
    }

    let res;
    try {
      res = await this.fetch({ url, headers, timeoutMs: p.timeoutS * 1000, maxBytes: this.maxBytes, maxRedirects: this.maxRedirects, caFile: p.caFile });
    } catch (err) {
      const reason = err instanceof FetchError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
      this.log.warn({ url: shown, reason }, 'provisioning fetch failed; keeping the current config');
      return { kind: 'failed', url: shown, reason };
    }
    if (res.status === 304) {
      if (this.provisionedText !== undefined) {
        this.log.debug({ url: shown }, 'provisioned config not modified');
        return { kind: 'unchanged', url: shown };
      }
      return { kind: 'failed', url: shown, status: 304, reason: '304 Not Modified without a cached config' };
    }
    if (res.status !== 200 || res.body === undefined) {
      const reason = res.status === 404 ? 'no config at this URL (404)' : res.status === 401 || res.status === 403 ? `access refused (${res.status})` : `HTTP status ${res.status}`;
      this.log.warn({ url: shown, status: res.status, reason }, 'provisioning fetch failed; keeping the current config');
      return { kind: 'failed', url: shown, status: res.status, reason };
    }

    const text = res.body;
    let config: OffhookConfig;
    try {
      const source = parseConfigSource(text, shown);
      config = buildConfig({ local: this.local, provisioned: source }, this.checks);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.log.warn({ url: shown, problems: err.problems.length, error: err.message }, 'provisioned config refused; keeping the last good one');
      return { kind: 'refused', url: shown, error: err };
    }

    const meta: ProvisioningMeta = { url, etag: res.etag, lastModified: res.lastModified, sha256: sha256(text) };
    const sameText = text === this.provisionedText;
    if (!sameText) await this.persist(this.cacheFile, text);
    const old = this.meta;
    if (!sameText || old?.etag !== meta.etag || old?.lastModified !== meta.lastModified || old?.url !== meta.url) {
      await this.persist(this.metaFile, `${JSON.stringify(meta, null, 2)}\n`);
    }
    this.meta = meta;
    this.provisionedText = text;
    const changed = JSON.stringify(config) !== JSON.stringify(this.config);
    this.config = config;
    if (!changed) {
      this.log.debug({ url: shown }, 'provisioned config fetched again, unchanged');
      return { kind: 'unchanged', url: shown };
    }
    this.log.info({ url: shown, etag: res.etag }, 'provisioned config applied');
    return { kind: 'updated', url: shown, config };
  }

  /** Writes atomically; a failure is logged, not thrown: the config still applies until the next reboot. */
  private async persist(file: string, text: string): Promise<void> {
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      // 0600: the config holds the accounts' passwords.
      await writeFileAtomic(file, text, { mode: 0o600 });
    } catch (err) {
      this.log.error({ file, code: errnoCode(err), err: err instanceof Error ? err.message : String(err) }, 'cannot write the provisioned config cache');
    }
  }
}
