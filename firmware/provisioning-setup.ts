// Provisioning for the composition root: the Provisioner started when the config names a server (or a DHCP option 66 file), and what a new config does (the phone restarts with it once idle).
import type { LoadedConfig } from './config/config.js';
import type { OffhookConfig } from './config/config-schema.js';
import { Provisioner } from './config/provisioning.js';
import type { ConfigCheck } from './config/config.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';

export interface ProvisioningSetup {
  /** The config the phone runs on: the local file over the cached provisioned one (loadConfig(file, { provisioned: true })). */
  loaded: Pick<LoadedConfig, 'config' | 'local' | 'provisioned' | 'provisionedProblem'>;
  clock: Clock;
  log: Logger;
  checks?: ConfigCheck | undefined;
  /** A fetched config differs from the one running. */
  onConfig: (config: OffhookConfig) => void;
}

/**
 * Starts provisioning when the config has provisioning.url or provisioning.dhcpOption66File;
 * undefined otherwise. The Provisioner logs every outcome itself (fetched, refused with the broken
 * file's line and column, failed and retried); a cached provisioned config that no longer passes was
 * set aside by loadConfig, and is reported here.
 *
 * What a changed config does is the caller's (main.ts): like commercial desk phones, which reboot or
 * reload after a provisioning change, the phone restarts itself with the new config — the user agent,
 * the engine and the phone are built again — once no call is up.
 */
export function startProvisioning(o: ProvisioningSetup): Provisioner | undefined {
  const log = o.log.child({ mod: 'provisioning' });
  if (o.loaded.provisionedProblem) {
    log.warn({ problems: o.loaded.provisionedProblem.message }, 'the cached provisioned config is broken and was ignored; running on the local file');
  }
  const p = o.loaded.config.provisioning;
  if (p.url === undefined && p.dhcpOption66File === undefined) return undefined;
  const provisioner = new Provisioner({ clock: o.clock, log: o.log, loaded: o.loaded, checks: o.checks });
  provisioner.on('config', (config) => o.onConfig(config));
  void provisioner.start();
  return provisioner;
}
