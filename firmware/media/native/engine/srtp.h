// SRTP and SRTCP (RFC 3711) for one stream with SDES keys (RFC 4568), over libsrtp2: protect what we send, check what we receive.
#ifndef OFFHOOK_ENGINE_SRTP_H
#define OFFHOOK_ENGINE_SRTP_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

struct srtp_ctx_t_;  // libsrtp2's session (srtp_t); srtp2/srtp.h stays inside srtp.cc

namespace offhook::engine::srtp {

/// RFC 4568 §6.2 crypto-suites. Both use AES in counter mode with a 128-bit key and HMAC-SHA1; they
/// differ in the SRTP authentication tag (80 or 32 bits). SRTCP always has an 80-bit tag (§6.2.2).
enum class Suite { kAesCm128HmacSha1_80, kAesCm128HmacSha1_32 };

/// RFC 4568 §6.2.1 key-params: the 128-bit master key followed by the 112-bit master salt.
inline constexpr size_t kKeySaltBytes = 30;

/// Most octets protect_rtp() / protect_rtcp() add to a packet: libsrtp's SRTP_MAX_TRAILER_LEN (auth
/// tag + MKI) plus the 32-bit E flag and SRTCP index of RFC 3711 §3.4 (checked in srtp.cc).
inline constexpr size_t kMaxTrailerBytes = 16 + 128 + 4;

/// A master key and salt; wiped when destroyed so that no copy of a key outlives its use in freed memory.
struct KeySalt {
  std::array<uint8_t, kKeySaltBytes> bytes{};

  KeySalt() = default;
  KeySalt(const KeySalt&) = default;
  KeySalt& operator=(const KeySalt&) = default;
  ~KeySalt();
  bool operator==(const KeySalt& other) const noexcept { return bytes == other.bytes; }
};

/// What one stream's SDP offer/answer agreed (RFC 4568 §5): one suite, our key, the peer's key.
struct Params {
  Suite suite = Suite::kAesCm128HmacSha1_80;
  KeySalt local_key;   ///< from our a=crypto: protects what we send
  KeySalt remote_key;  ///< from the peer's a=crypto: checks what we receive
};

/// What became of a received packet.
enum class Unprotected {
  kOk,
  kAuthFailure,  ///< RFC 3711 §3.3 step 5 / §3.4: the tag did not verify (wrong key, or tampered)
  kReplay,       ///< RFC 3711 §3.3.2: an index already seen, or older than the replay window
  kInvalid,      ///< too short to be SRTP / SRTCP, or another libsrtp error
};

/// One direction of one stream: a libsrtp session with a single key for any SSRC (libsrtp's
/// ssrc_any_outbound / ssrc_any_inbound), so a new SSRC from the peer (RFC 3550 §8.2) needs no new
/// configuration. It keeps the rollover counter and the replay window (RFC 3711 §3.3.1, §3.3.2),
/// so it lives as long as its key does. Not thread-safe: the stream's users hold the engine lock.
class Session {
 public:
  enum class Role { kProtect, kUnprotect };
  /// Throws EngineError (ERR_MEDIA_SYSTEM when libsrtp cannot be set up).
  Session(Suite suite, const KeySalt& key, Role role);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Encrypts and authenticates `size` octets in place (RFC 3711 §3.3 / §3.4); `capacity` must be at
  /// least size + kMaxTrailerBytes. Returns the new size, 0 on failure.
  size_t protect_rtp(uint8_t* packet, size_t size, size_t capacity) noexcept;
  size_t protect_rtcp(uint8_t* packet, size_t size, size_t capacity) noexcept;
  /// Checks and decrypts in place; on kOk, `size` is the plain packet's size.
  Unprotected unprotect_rtp(uint8_t* packet, size_t& size) noexcept;
  Unprotected unprotect_rtcp(uint8_t* packet, size_t& size) noexcept;

 private:
  srtp_ctx_t_* ctx_ = nullptr;
};

/// Both directions of one stream. A re-INVITE may change one key and keep the other (RFC 4568
/// §7.1.4): the direction whose suite and key did not change keeps its session, hence its rollover
/// counter and replay window, which a fresh session would lose (and a fresh sender session would
/// restart the keystream index a receiver has already seen). When the peer's key changes, packets
/// it sent under the old key may still be in flight: the old receiving session stays as a fallback
/// until the first packet authenticates under the new key, so a re-key costs no audio.
class StreamCrypto {
 public:
  /// New sessions for `params`, sharing those of `previous` whose key and suite are unchanged.
  /// Throws EngineError.
  StreamCrypto(const Params& params, const StreamCrypto* previous);

  /// Protects in place what we send; see Session. Returns the new size, 0 on failure.
  size_t protect_rtp(uint8_t* packet, size_t size, size_t capacity) noexcept { return outbound_->protect_rtp(packet, size, capacity); }
  size_t protect_rtcp(uint8_t* packet, size_t size, size_t capacity) noexcept { return outbound_->protect_rtcp(packet, size, capacity); }
  /// Checks and decrypts in place what we received (under the previous key too, during a re-key).
  Unprotected unprotect(uint8_t* packet, size_t& size, bool rtcp) noexcept;

 private:
  Params params_;
  std::shared_ptr<Session> outbound_;
  std::shared_ptr<Session> inbound_;
  std::shared_ptr<Session> previous_inbound_;  // the peer's last key, until its new one is seen
};

}  // namespace offhook::engine::srtp

#endif  // OFFHOOK_ENGINE_SRTP_H
