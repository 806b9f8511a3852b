# Example Coffer server configuration (Vault-compatible HCL).
# Start with: build/coffer server -config config/coffer.hcl

# Encrypted data lives here (RocksDB). Every value is sealed by the barrier first.
storage "rocksdb" {
  path = "/var/lib/coffer/data"
}

listener "tcp" {
  address       = "127.0.0.1:8200"
  tls_cert_file = "/etc/coffer/tls/server.pem"       # certificate chain, PEM
  tls_key_file  = "/etc/coffer/tls/server-key.pem"   # private key, PEM, mode 0600
  tls_min_version = "tls12"                          # or "tls13"

  # Optional client certificates (for cert auth / mTLS):
  # tls_client_ca_file = "/etc/coffer/tls/clients-ca.pem"
  # tls_require_and_verify_client_cert = true

  max_request_size         = 33554432   # bytes; larger bodies get 413
  http_read_header_timeout = "10s"
  http_read_timeout        = "30s"
  http_idle_timeout        = "5m"
}

api_addr          = "https://127.0.0.1:8200"
default_lease_ttl = "768h"
max_lease_ttl     = "768h"
log_level         = "info"
