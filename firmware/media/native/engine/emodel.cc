// G.107 E-model: Ie,eff (§7.5), a delay impairment for default echo parameters, and the R → MOS map (Annex B).
#include "engine/emodel.h"

#include <algorithm>

namespace offhook::engine {

EModelResult emodel(const EModelInput& in) noexcept {
  EModelResult out;
  // G.107 §7.5, eq. 7-29: Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl).
  const double ppl = std::clamp(in.ppl_percent, 0.0, 100.0);
  const double burst = std::max(1.0, in.burst_r);
  out.ie_eff = in.ie + (95.0 - in.ie) * ppl / (ppl / burst + in.bpl);
  // Delay impairment Id = Idte + Idle + Idd, which with the default values of G.107 Table 1 (TELR 65 dB,
  // WEPL 110 dB) is approximated within about 1 R-unit by 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)
  // (Cole & Rosenbluth, "Voice over IP performance monitoring", ACM CCR 31(2), 2001). We use the
  // approximation: the full §7.4 computation needs echo paths a desk phone does not know.
  const double d = std::max(0.0, in.delay_ms);
  out.id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0.0);
  out.r = 93.2 - out.id - out.ie_eff;
  // Annex B, eq. B-4.
  const double r = out.r;
  if (r <= 0) {
    out.mos = 1.0;
  } else if (r >= 100) {
    out.mos = 4.5;
  } else {
    out.mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
  }
  out.mos = std::clamp(out.mos, 1.0, 4.5);
  return out;
}

}  // namespace offhook::engine
