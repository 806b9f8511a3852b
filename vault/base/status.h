#pragma once
// Status and Result: the error vocabulary shared by every Coffer module.
//
// A Status carries one of a few codes chosen by how a client must react, and a
// message that is safe to show to that client: callers never put secret values,
// tokens, passwords or storage keys into it. Result<T> is std::expected<T, Status>.
// Both are [[nodiscard]]; propagate with COFFER_TRY / COFFER_ASSIGN_OR_RETURN.

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace coffer {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // bad client input -> 400
  kPermissionDenied,   // missing/invalid token or ACL denial -> 403
  kNotFound,           // no such item or route -> 404
  kUnsupported,        // method not allowed on this path -> 405
  kConflict,           // path in use, cas mismatch on create-only -> 409
  kTooLarge,           // request body over the limit -> 413
  kResourceExhausted,  // quota or rate limit -> 429
  kInternal,           // broken invariant, decryption failure, storage error -> 500
  kUpstream,           // a third-party system failed -> 502
  kSealed,             // vault sealed -> 503
  kUnavailable,        // temporarily unable to serve -> 503
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status ok_status() { return {}; }
inline Status invalid_argument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status permission_denied(std::string m = "permission denied") {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
inline Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status sealed_error() { return {StatusCode::kSealed, "Vault is sealed"}; }

// The single mapping from error codes to Vault's HTTP statuses.
int http_status_for(StatusCode code);

template <typename T>
using Result = std::expected<T, Status>;

// Makes `return some_status;` work in functions returning Result<T>.
inline std::unexpected<Status> fail(Status s) { return std::unexpected<Status>(std::move(s)); }

}  // namespace coffer

#define COFFER_CONCAT_INNER(a, b) a##b
#define COFFER_CONCAT(a, b) COFFER_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` (a Status or a
// Result<T>) is an error.
#define COFFER_TRY(expr)                                              \
  do {                                                                \
    auto&& coffer_try_value = (expr);                                 \
    if (!::coffer::detail::is_ok(coffer_try_value))                   \
      return ::coffer::detail::error_of(std::move(coffer_try_value)); \
  } while (0)

// `COFFER_ASSIGN_OR_RETURN(auto x, make_x());`
#define COFFER_ASSIGN_OR_RETURN(lhs, expr) \
  COFFER_ASSIGN_OR_RETURN_IMPL(COFFER_CONCAT(coffer_result_, __LINE__), lhs, expr)
#define COFFER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)           \
  auto tmp = (expr);                                           \
  if (!tmp) return ::coffer::detail::error_of(std::move(tmp)); \
  lhs = std::move(*tmp)

namespace coffer::detail {
inline bool is_ok(const Status& s) { return s.ok(); }
template <typename T>
bool is_ok(const Result<T>& r) {
  return r.has_value();
}
// Converts to whatever the enclosing function returns: Status or Result<U>.
struct ErrorOf {
  Status status;
  operator Status() && { return std::move(status); }
  template <typename U>
  operator Result<U>() && {
    return std::unexpected<Status>(std::move(status));
  }
};
inline ErrorOf error_of(Status&& s) { return {std::move(s)}; }
inline ErrorOf error_of(Status& s) { return {s}; }
template <typename T>
ErrorOf error_of(Result<T>&& r) {
  return {std::move(r).error()};
}
template <typename T>
ErrorOf error_of(Result<T>& r) {
  return {r.error()};
}
}  // namespace coffer::detail
