// Listeners of MediaEngine events by type, per engine instance (shared by the native engine and the mock).
import type { MediaEngineEvent, MediaEngineEventOf, MediaEngineEventType, Unsubscribe } from './media-engine.js';

type Listener = (event: MediaEngineEvent) => void;

/** A typed listener registry; one per engine (no module state). */
export class MediaEventListeners {
  private readonly byType = new Map<MediaEngineEventType, Set<Listener>>();

  on<T extends MediaEngineEventType>(type: T, listener: (event: MediaEngineEventOf<T>) => void): Unsubscribe {
    let set = this.byType.get(type);
    if (set === undefined) {
      set = new Set();
      this.byType.set(type, set);
    }
    // Only events of `type` reach this set, so the narrowing is sound.
    const l = listener as Listener;
    set.add(l);
    return () => {
      set.delete(l);
    };
  }

  emit(event: MediaEngineEvent): void {
    const set = this.byType.get(event.type);
    if (set === undefined) return;
    for (const listener of [...set]) listener(event);
  }

  clear(): void {
    this.byType.clear();
  }
}
