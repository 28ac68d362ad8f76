// ITU-T G.107 E-model: transmission rating R and MOS from delay, codec and packet loss, computed per stream.
#ifndef OFFHOOK_ENGINE_EMODEL_H
#define OFFHOOK_ENGINE_EMODEL_H

namespace offhook::engine {

struct EModelInput {
  /// One-way mouth-to-ear delay, ms (network + jitter buffer + packetization + codec + device).
  double delay_ms = 0;
  /// Codec (G.113 Appendix I): equipment impairment and packet-loss robustness.
  double ie = 0;
  double bpl = 25.1;
  /// Packet loss probability seen by the decoder, percent (lost + late − recovered by FEC).
  double ppl_percent = 0;
  /// G.107 §7.5 burst ratio (1 = random loss).
  double burst_r = 1;
};

struct EModelResult {
  double r = 0;
  double mos = 1;
  double ie_eff = 0;
  double id = 0;
};

/// R = Ro − Is − Id − Ie,eff + A with the default values of G.107 Table 1 (Ro − Is = 93.2, A = 0).
EModelResult emodel(const EModelInput& in) noexcept;

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_EMODEL_H
