// The phone's volume steps and microphone mute on the media engine (part of the composition root): levels → dB per path, plus the config's calibration gains.
import type { AudioPathConfig } from './config/media-config-schema.js';
import { AUDIO_PATHS, MAX_GAIN_DB, MIN_GAIN_DB, type AudioPath, type MediaEngine } from './media/media-engine.js';
import type { AudioControls } from './phone/call-service.js';
import { VOLUME_MAX, type VolumePath } from './phone/settings-store.js';
import type { Logger } from './util/log.js';

/** dB between two volume steps. */
export const VOLUME_STEP_DB = 3;
/** The step at which the speaker plays at the config's calibration gain (speakerGainDb). */
export const VOLUME_MIDDLE = Math.round(VOLUME_MAX / 2);

/**
 * A volume step as the engine's speaker gain: the path's calibration (media.paths.<path>.speakerGainDb)
 * at the middle step, VOLUME_STEP_DB per step above or below it (VOLUME_MAX = 10: −15 .. +15 dB
 * around it), clamped to the engine's −40..+20 dB. Step 0 is the engine's floor, −40 dB: as quiet as
 * it goes (the volume bar shows it empty; the far end is still just audible, never cut off by mistake).
 */
export function volumeGainDb(level: number, calibrationDb = 0): number {
  if (level <= 0) return MIN_GAIN_DB;
  const db = calibrationDb + VOLUME_STEP_DB * (Math.min(level, VOLUME_MAX) - VOLUME_MIDDLE);
  return Math.min(MAX_GAIN_DB, Math.max(MIN_GAIN_DB, db));
}

/** The volume step that sets a path's speaker: the phone has no headset step, the headset follows the handset's. */
function volumePathOf(path: AudioPath): VolumePath {
  return path === 'speaker' ? 'speaker' : 'handset';
}

export interface EngineAudioControlsOptions {
  engine: MediaEngine;
  /** media.paths: each path's micGainDb (sent as is) and speakerGainDb (the middle volume step). */
  paths: Readonly<Record<AudioPath, Pick<AudioPathConfig, 'micGainDb' | 'speakerGainDb'>>>;
  log: Logger;
}

/**
 * AudioControls on the engine: setVolume(path, level) → engine.setGains({ path, speakerGainDb })
 * (the handset's level also sets the headset's), setMuted → engine.setMuted. The volume scales the
 * call audio and the tones, not the ringer (MediaEngine.setGains). An engine that fails (closed) is
 * logged, never thrown at the phone.
 */
export class EngineAudioControls implements AudioControls {
  private readonly o: EngineAudioControlsOptions;

  constructor(o: EngineAudioControlsOptions) {
    this.o = o;
  }

  /** Every path's calibrated microphone gain and its speaker gain at these (persisted) volume steps. */
  start(volumes: Readonly<Record<VolumePath, number>>): void {
    for (const path of AUDIO_PATHS) {
      const p = this.o.paths[path];
      this.apply(path, { micGainDb: p.micGainDb, speakerGainDb: volumeGainDb(volumes[volumePathOf(path)], p.speakerGainDb) });
    }
  }

  setVolume(path: VolumePath, level: number): void {
    for (const target of AUDIO_PATHS.filter((p) => volumePathOf(p) === path)) {
      this.apply(target, { speakerGainDb: volumeGainDb(level, this.o.paths[target].speakerGainDb) });
    }
  }

  setMuted(muted: boolean): void {
    try {
      this.o.engine.setMuted(muted);
    } catch (err) {
      this.o.log.warn({ err, muted }, 'the media engine could not change the mute');
    }
  }

  private apply(path: AudioPath, gains: { micGainDb?: number; speakerGainDb?: number }): void {
    try {
      this.o.engine.setGains({ path, ...gains });
    } catch (err) {
      this.o.log.warn({ err, path, ...gains }, 'the media engine could not change the gains');
    }
  }
}
