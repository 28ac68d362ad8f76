// Time-scale modification of one decoded frame to an exact length: the DSP half of the jitter buffer's
// time-stretching (the buffer decides how long a frame plays, Pulled::playout_ts; this makes it so).
//
// One splice per frame, in the spirit of WSOLA (Verhelst & Roelands, ICASSP 1993) and of the
// accelerate / preemptive-expand operations of WebRTC NetEq: to shorten a frame by D samples, the
// segment x[p, p+D) is cut out and the edges are cross-faded; to lengthen it, play-out jumps back by D
// at p+D and replays x[p, …) with a cross-fade. D and p are chosen together where the two waveforms
// that meet are most alike (normalised cross-correlation over the overlap): D within a tolerance of
// what was asked, so that on voiced audio the cut is a whole number of pitch periods (a splice of any
// other length is a phase jump, audible on a vowel or a tone), and p anywhere in the frame, so that
// otherwise it falls in a quiet or unvoiced stretch. The length played is thus close to, not exactly,
// what the jitter buffer asked; the buffer needs no report of it, since it reads the true play-out
// time at its next pull. No allocation, no state: real-time safe.
#ifndef OFFHOOK_JITTER_TIME_STRETCH_H
#define OFFHOOK_JITTER_TIME_STRETCH_H

#include <cstddef>
#include <cstdint>

namespace offhook::jitter {

/// Longest cross-fade, in samples (5 ms at 48 kHz).
constexpr size_t kMaxStretchOverlap = 240;

/// Stretches pcm[0, n) in place to about `m` samples (never beyond capacity): |new length − n| is
/// chosen in [D/2, 2D] for D = |m − n| (at most n/2), preferring D, as the best-matching splice says.
/// Returns the new length (n when the frame is too short for a splice). With exact = true the length
/// is m (tests of the splice itself).
size_t time_stretch(int16_t* pcm, size_t n, size_t m, size_t capacity, int sample_rate_hz, bool exact = false) noexcept;

}  // namespace offhook::jitter

#endif  // OFFHOOK_JITTER_TIME_STRETCH_H
