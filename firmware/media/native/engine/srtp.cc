// SRTP / SRTCP sessions over libsrtp2 (RFC 3711), keyed by SDES (RFC 4568); the process-wide libsrtp initialisation.
#include "engine/srtp.h"

#include <srtp2/srtp.h>
#include <string.h>  // explicit_bzero (glibc ≥ 2.25)

#include <climits>
#include <cstring>
#include <string>

#include "engine/engine-error.h"

namespace offhook::engine::srtp {
namespace {

static_assert(kMaxTrailerBytes >= SRTP_MAX_TRAILER_LEN + 4, "room for the SRTP tag, MKI and the SRTCP index (RFC 3711 §3.4)");
static_assert(kKeySaltBytes == SRTP_AES_ICM_128_KEY_LEN_WSALT, "RFC 4568 §6.2.1: 128-bit key + 112-bit salt");

/// libsrtp's srtp_init() fills the library's crypto kernel (its cipher and auth function tables),
/// which is global to the process whatever we do. It is the one piece of process-wide state the addon
/// has (firmware/media/native/engine/README.md): initialised once, on first use, by a function-local
/// static (thread-safe since C++11), and never shut down, since another engine (in another worker
/// thread of the same process, loading the same addon) may be using it at any time.
srtp_err_status_t library_status() noexcept {
  static const srtp_err_status_t status = srtp_init();
  return status;
}

[[noreturn]] void system_error(const std::string& what, srtp_err_status_t status) {
  throw EngineError("ERR_MEDIA_SYSTEM", "libsrtp " + std::string(srtp_get_version_string()) + ": " + what + " failed (srtp_err_status " +
                                            std::to_string(static_cast<int>(status)) + ")");
}

Unprotected classify(srtp_err_status_t status) noexcept {
  switch (status) {
    case srtp_err_status_ok:
      return Unprotected::kOk;
    case srtp_err_status_auth_fail:
      return Unprotected::kAuthFailure;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return Unprotected::kReplay;
    default:
      return Unprotected::kInvalid;
  }
}

bool same_key(const Params& a, const Params& b, bool local) noexcept {
  return a.suite == b.suite && (local ? a.local_key == b.local_key : a.remote_key == b.remote_key);
}

}  // namespace

KeySalt::~KeySalt() { explicit_bzero(bytes.data(), bytes.size()); }

Session::Session(Suite suite, const KeySalt& key, Role role) {
  if (const srtp_err_status_t status = library_status(); status != srtp_err_status_ok) system_error("srtp_init", status);
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  if (suite == Suite::kAesCm128HmacSha1_32) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
  }
  // RFC 4568 §6.2.2: AES_CM_128_HMAC_SHA1_32 shortens only the SRTP tag; SRTCP keeps 80 bits.
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  policy.ssrc.type = role == Role::kProtect ? ssrc_any_outbound : ssrc_any_inbound;
  policy.ssrc.value = 0;
  // libsrtp copies the key into its session keys (derived per RFC 3711 §4.3) at srtp_create().
  KeySalt copy = key;
  policy.key = copy.bytes.data();
  policy.window_size = 0;      // libsrtp's default replay window: 128 packets (RFC 3711 §3.3.2 asks for at least 64)
  policy.allow_repeat_tx = 0;  // never send two packets under one index: that would reuse keystream
  policy.next = nullptr;
  if (const srtp_err_status_t status = srtp_create(&ctx_, &policy); status != srtp_err_status_ok) {
    ctx_ = nullptr;
    system_error("srtp_create", status);
  }
}

Session::~Session() {
  if (ctx_ != nullptr) srtp_dealloc(ctx_);  // libsrtp zeroes its session keys as it frees them
}

size_t Session::protect_rtp(uint8_t* packet, size_t size, size_t capacity) noexcept {
  if (size > INT_MAX - kMaxTrailerBytes || capacity < size + kMaxTrailerBytes) return 0;
  int length = static_cast<int>(size);
  return srtp_protect(ctx_, packet, &length) == srtp_err_status_ok ? static_cast<size_t>(length) : 0;
}

size_t Session::protect_rtcp(uint8_t* packet, size_t size, size_t capacity) noexcept {
  if (size > INT_MAX - kMaxTrailerBytes || capacity < size + kMaxTrailerBytes) return 0;
  int length = static_cast<int>(size);
  return srtp_protect_rtcp(ctx_, packet, &length) == srtp_err_status_ok ? static_cast<size_t>(length) : 0;
}

Unprotected Session::unprotect_rtp(uint8_t* packet, size_t& size) noexcept {
  if (size > INT_MAX) return Unprotected::kInvalid;
  int length = static_cast<int>(size);
  const Unprotected result = classify(srtp_unprotect(ctx_, packet, &length));
  if (result == Unprotected::kOk) size = static_cast<size_t>(length);
  return result;
}

Unprotected Session::unprotect_rtcp(uint8_t* packet, size_t& size) noexcept {
  if (size > INT_MAX) return Unprotected::kInvalid;
  int length = static_cast<int>(size);
  const Unprotected result = classify(srtp_unprotect_rtcp(ctx_, packet, &length));
  if (result == Unprotected::kOk) size = static_cast<size_t>(length);
  return result;
}

StreamCrypto::StreamCrypto(const Params& params, const StreamCrypto* previous) : params_(params) {
  if (previous != nullptr && same_key(previous->params_, params, true)) {
    outbound_ = previous->outbound_;
  } else {
    outbound_ = std::make_shared<Session>(params.suite, params.local_key, Session::Role::kProtect);
  }
  if (previous != nullptr && same_key(previous->params_, params, false)) {
    inbound_ = previous->inbound_;
    previous_inbound_ = previous->previous_inbound_;
  } else {
    inbound_ = std::make_shared<Session>(params.suite, params.remote_key, Session::Role::kUnprotect);
    if (previous != nullptr) previous_inbound_ = previous->inbound_;
  }
}

Unprotected StreamCrypto::unprotect(uint8_t* packet, size_t& size, bool rtcp) noexcept {
  const Unprotected result = rtcp ? inbound_->unprotect_rtcp(packet, size) : inbound_->unprotect_rtp(packet, size);
  if (result == Unprotected::kOk) {
    previous_inbound_.reset();  // the peer uses its new key: the old one is done with
  } else if (result == Unprotected::kAuthFailure && previous_inbound_) {
    // libsrtp checks the tag before it decrypts, so the failed attempt left the packet as it came.
    const Unprotected old = rtcp ? previous_inbound_->unprotect_rtcp(packet, size) : previous_inbound_->unprotect_rtp(packet, size);
    if (old == Unprotected::kOk || old == Unprotected::kReplay) return old;
  }
  return result;
}

}  // namespace offhook::engine::srtp
