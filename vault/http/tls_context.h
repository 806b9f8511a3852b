#pragma once
// Builds the server-side TLS context for a listener: TLS 1.2 minimum (or 1.3),
// ECDHE key exchange with AEAD ciphers only under 1.2, no renegotiation, and
// optional client-certificate verification against `tls_client_ca_file`.

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "vault/base/status.h"
#include "vault/config/server_config.h"

namespace coffer::http {

Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(
    const config::ListenerConfig& listener);

}  // namespace coffer::http
