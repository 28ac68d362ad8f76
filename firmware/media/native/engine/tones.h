// Tone generator of the local speaker path: sums or modulated pairs of sines, cadences, once or repeated.
#ifndef OFFHOOK_ENGINE_TONES_H
#define OFFHOOK_ENGINE_TONES_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace offhook::engine {

/// One step of a cadence. The country tables live in TypeScript (firmware/media/tones.ts) as data;
/// the engine only plays what it is given.
struct ToneSegment {
  /// 0 = lasts until stopped.
  int duration_ms = 0;
  /// Up to 4 frequencies summed (E.180 dual tones such as 350+440 Hz); empty = silence.
  std::vector<double> frequencies_hz;
  /// > 0: the frequencies are not summed but played one after the other, each for this long, with a
  /// continuous phase (the two-frequency trill of electronic ringers).
  int alternate_ms = 0;
  /// > 0: the (first) frequency is amplitude-modulated by this one (e.g. Japan's 400 Hz × 16 Hz
  /// ringback tone), at a depth of 90 %.
  double modulation_hz = 0;
  /// Level of each frequency, in dBm0 (E.180 §2 recommends tones between −10 and −20 dBm0 or so).
  double level_dbm0 = -13;
};

struct ToneSpec {
  std::vector<ToneSegment> segments;
  bool repeat = true;
};

/// Generates a ToneSpec at the engine rate, with 2 ms ramps at every on/off edge so cadences do not click.
class ToneGenerator {
 public:
  explicit ToneGenerator(int sample_rate_hz) noexcept : rate_(sample_rate_hz) {}
  void play(ToneSpec spec);
  void stop() noexcept { playing_ = false; }
  bool playing() const noexcept { return playing_; }
  /// Adds the tone to `mix`. Returns true when a non-repeating tone just ended (for a toneEnded event).
  bool render(int32_t* mix, size_t frames) noexcept;

 private:
  void enter(size_t index) noexcept;

  int rate_;
  ToneSpec spec_;
  bool playing_ = false;
  size_t segment_ = 0;
  int64_t segment_pos_ = 0;
  int64_t segment_len_ = 0;  // 0 = endless
  double phase_[5]{};       // up to 4 tones + the modulator
  double amplitude_ = 0;
};

/// 16-bit peak amplitude of a sine at `dbm0`: G.711 puts the 0 dBm0 sine 3.17 dB below the coder's
/// overload (G.711 §3.2, µ-law; 3.14 dB for A-law), i.e. a peak of about 22,700 at 16 bits.
double dbm0_to_peak(double dbm0) noexcept;

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_TONES_H
