// Packet loss concealment for G.711 (waveform substitution by pitch-period repetition with fading).
#ifndef OFFHOOK_ENGINE_G711_PLC_H
#define OFFHOOK_ENGINE_G711_PLC_H

#include <cstddef>
#include <cstdint>

namespace offhook::engine {

/// Our G.711 PLC, following the idea of ITU-T G.711 Appendix I (not its code): on a loss, find the
/// pitch period of the last good audio, repeat that period, fade it out, and blend into the next
/// good frame so that neither edge clicks. 8000 Hz only.
class G711Plc {
 public:
  /// Pitch periods searched: 5 to 15 ms (G.711 App. I §I.2.1 uses the same 66–200 Hz range).
  static constexpr int kMinPitch = 40;
  static constexpr int kMaxPitch = 120;
  /// Audio remembered: the longest pitch period plus the correlation window.
  static constexpr int kHistory = 2 * kMaxPitch + 80;
  /// Full level for the first 10 ms of a loss, then −20 % per 10 ms: silent after 60 ms (App. I
  /// likewise attenuates and stops after 60 ms, since repeating longer sounds like a buzz).
  static constexpr int kFullLevelSamples = 80;
  static constexpr int kFadeSamples = 400;
  /// Blend length into the first good frame after a loss.
  static constexpr int kBlendSamples = 32;

  /// Good audio was decoded: remember it (and blend it with the concealment that preceded it).
  void good(int16_t* pcm, size_t samples) noexcept;
  /// Fills `samples` samples of concealment.
  void conceal(int16_t* out, size_t samples) noexcept;
  void reset() noexcept;
  /// Samples concealed in the current loss (0 when the last frame was good).
  int loss_samples() const noexcept { return erased_; }

 private:
  int find_pitch() const noexcept;
  int16_t synth_next() noexcept;

  int16_t history_[kHistory]{};
  int filled_ = 0;  // valid samples in history_ (at its end)
  int erased_ = 0;
  int pitch_ = kMinPitch;
  int phase_ = 0;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_G711_PLC_H
