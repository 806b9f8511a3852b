#include "vault/http/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <atomic>
#include <charconv>
#include <list>
#include <mutex>
#include <thread>

#include "vault/base/log.h"
#include "vault/http/request_builder.h"
#include "vault/http/tls_context.h"

namespace coffer::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

// Header block bound: far above any real client, far below what a slowloris or
// header-flood needs to hurt. Beyond it the client gets 431 and a close.
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr auto kDrainDeadline = std::chrono::seconds(10);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
// After an early error answer: how long and how much of the unread request we
// read and throw away so the client gets to read the answer.
constexpr auto kDiscardTime = std::chrono::seconds(2);
constexpr std::size_t kDiscardLimit = 64u << 20;
// Requests that change state wait on a synced storage write (or, later, on an
// external system). They run on this many pool threads instead of the io
// threads, so one slow fsync never stalls the reads multiplexed on an io thread,
// and concurrent writers reach RocksDB together, where they share one sync
// (group commit) instead of queueing behind one io thread each.
constexpr int kBlockingThreads = 32;

struct ListenerRuntime {
  config::ListenerConfig config;
  api::JsonLimits json_limits;
  std::mutex tls_mutex;
  std::shared_ptr<ssl::context> tls;  // guarded by tls_mutex; null for plain listeners

  std::shared_ptr<ssl::context> tls_context() {
    std::lock_guard lock(tls_mutex);
    return tls;
  }
};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection if it is between requests (used when draining).
  virtual void close_if_idle() = 0;
};

struct ServerState {
  explicit ServerState(core::Core& c) : core(c), blocking(kBlockingThreads) {}
  core::Core& core;
  net::thread_pool blocking;
  std::atomic<bool> draining{false};
  std::atomic<int> active_sessions{0};
  std::mutex sessions_mutex;
  std::list<std::weak_ptr<SessionBase>> sessions;  // guarded by sessions_mutex

  void track(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard lock(sessions_mutex);
    sessions.remove_if([](const auto& w) { return w.expired(); });
    sessions.push_back(s);
  }
  void close_idle_sessions() {
    std::lock_guard lock(sessions_mutex);
    for (auto& w : sessions) {
      if (auto s = w.lock()) s->close_if_idle();
    }
  }
};

bool is_http_parse_error(const beast::error_code& ec) {
  static const auto& category = bhttp::make_error_code(bhttp::error::bad_target).category();
  return ec.category() == category && ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message;
}

std::string_view header_value(const bhttp::request<bhttp::string_body>& req,
                              std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string_view() : std::string_view(it->value());
}

template <typename Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... StreamArgs>
  Session(ServerState& state, ListenerRuntime& listener, std::string remote,
          std::shared_ptr<ssl::context> tls, StreamArgs&&... args)
      : state_(state),
        listener_(listener),
        remote_(std::move(remote)),
        tls_(std::move(tls)),
        stream_(std::forward<StreamArgs>(args)...) {
    ++state_.active_sessions;
  }
  ~Session() override { --state_.active_sessions; }

  void start() {
    if constexpr (kTls) {
      lowest().expires_after(listener_.config.http_read_header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close_now();
                                self->wait_for_request();
                              });
    } else {
      wait_for_request();
    }
  }

  auto executor() { return stream_.get_executor(); }

  void close_if_idle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) self->close_now();
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void wait_for_request() {
    if (state_.draining) return close_gracefully();
    if (buffer_.size() > 0) return read_header();  // a pipelined request is already here
    // Between requests the idle timeout applies; once the first byte arrives the
    // (shorter) header timeout does, so a slow sender cannot hold the connection.
    idle_ = true;
    lowest().expires_after(listener_.config.http_idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->idle_ = false;
                              if (ec) return self->close_now();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(listener_.config.max_request_size);
    lowest().expires_after(listener_.config.http_read_header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               self->on_header(ec);
                             });
  }

  bool answer_read_error(const beast::error_code& ec) {
    if (ec == bhttp::error::header_limit) {
      send_error(431, "request header fields too large", true);
    } else if (ec == bhttp::error::body_limit) {
      // Refused from Content-Length (or the chunk that crossed it): nothing more is read.
      send_error(413, "http: request body too large", true);
    } else if (is_http_parse_error(ec)) {
      send_error(400, "malformed HTTP request", true);
    } else {
      close_now();  // timeout, reset or end of stream: nobody to answer
    }
    return true;
  }

  void on_header(beast::error_code ec) {
    if (ec) {
      answer_read_error(ec);
      return;
    }
    auto& req = parser_->get();
    if (bhttp::to_string(req.method()) != req.method_string() &&
        req.method() != bhttp::verb::unknown) {
      // Beast normalises known verbs; nothing to do here.
    }
    if (!parser_->is_done() && beast::iequals(header_value(req, "Expect"), "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       req.version());
      lowest().expires_after(kWriteTimeout);
      bhttp::async_write(
          stream_, *cont,
          [self = this->shared_from_this(), cont](beast::error_code ec2, std::size_t) {
            if (ec2) return self->close_now();
            self->read_body();
          });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return process();
    lowest().expires_after(listener_.config.http_read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) {
                          self->answer_read_error(ec);
                          return;
                        }
                        self->process();
                      });
  }

  void process() {
    auto& req = parser_->get();
    RawRequest raw;
    raw.method = req.method_string();
    raw.target = req.target();
    raw.vault_token = header_value(req, "X-Vault-Token");
    raw.authorization = header_value(req, "Authorization");
    raw.content_type = header_value(req, "Content-Type");
    raw.intent = header_value(req, "X-Coffer-Intent");
    raw.wrap_ttl = header_value(req, "X-Vault-Wrap-TTL");
    raw.vault_namespace = header_value(req, "X-Vault-Namespace");
    raw.body = req.body();
    raw.remote_address = remote_;
    const bool keep_alive = req.keep_alive() && !state_.draining;
    const bool head = req.method() == bhttp::verb::head;

    auto built = build_request(raw, listener_.json_limits);
    if (!built) {
      std::vector<std::string> messages;
      if (!built.error().message.empty()) messages.push_back(built.error().message);
      return send(api::Response::error(built.error().status, std::move(messages)), keep_alive,
                  head);
    }
    if (runs_inline(*built)) {
      std::string path = built->path;
      const api::Response response = state_.core.handle(std::move(*built));
      return respond(response, path, keep_alive, head);
    }
    // The work guard keeps this session's io_context running while the request is in the pool.
    net::post(state_.blocking, [self = this->shared_from_this(), request = std::move(*built),
                                guard = net::make_work_guard(stream_.get_executor()), keep_alive,
                                head]() mutable {
      std::string path = request.path;
      auto response = std::make_shared<api::Response>(self->state_.core.handle(std::move(request)));
      net::post(guard.get_executor(), [self, response, path = std::move(path), keep_alive, head] {
        self->respond(*response, path, keep_alive, head);
      });
    });
  }

  // Reads are the hot path and never wait on a sync: they stay on the io thread. A wrapped
  // read stores its response (a synced write), so it goes to the pool like any write.
  static bool runs_inline(const api::Request& request) {
    const auto op = request.operation;
    return request.wrap_ttl == 0 && (op == api::Operation::kRead || op == api::Operation::kList ||
                                     op == api::Operation::kHead);
  }

  void respond(const api::Response& response, const std::string& path, bool keep_alive, bool head) {
    // Server-side failures (not the expected 503 while sealed) reach the operator's log. Error
    // messages are safe by contract (no secret values); the logical path is what Vault logs too.
    if (response.status >= 500 && response.status != 503 && log::enabled(log::Level::kError)) {
      std::string what = response.body ? render_body(response) : std::string();
      log::error("request to " + path + " failed with " + std::to_string(response.status) + ": " +
                 what);
    }
    send(response, keep_alive, head);
  }

  // Answers a request that could not be read whole, then closes. The client may
  // still be sending its body; closing at once would reset the connection
  // before it reads our answer, so the rest is read and discarded first, within
  // a time and byte bound (nothing is buffered).
  void send_error(int status, std::string message, bool close) {
    discard_after_write_ = close;
    send(api::Response::error(status, {std::move(message)}), !close, false);
  }

  void discard_then_close() {
    if (discarded_ >= kDiscardLimit) return close_gracefully();
    stream_.async_read_some(net::buffer(discard_buffer_->data(), discard_buffer_->size()),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close_gracefully();
                              self->discarded_ += n;
                              self->discard_then_close();
                            });
  }

  void send(const api::Response& response, bool keep_alive, bool head) {
    response_ = {};
    response_.version(11);
    std::string body = head ? std::string() : render_body(response);
    int status = response.status;
    if (status >= 200 && status < 300 && body.empty() && !head) status = 204;
    response_.result(static_cast<unsigned>(status));
    response_.set(bhttp::field::server, "coffer");
    response_.set(bhttp::field::content_type, response.content_type);
    response_.set(bhttp::field::cache_control, "no-store");
    response_.set("X-Content-Type-Options", "nosniff");
    response_.keep_alive(keep_alive);
    response_.body() = std::move(body);
    if (head && response.body) {
      // HEAD carries no body but must not claim a zero length for a GET that has one.
      response_.content_length(render_body(response).size());
    } else {
      response_.prepare_payload();
    }
    lowest().expires_after(kWriteTimeout);
    bhttp::async_write(
        stream_, response_,
        [self = this->shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
          if (ec) return self->close_now();
          if (!keep_alive && self->discard_after_write_) {
            self->lowest().expires_after(kDiscardTime);
            self->discard_buffer_ = std::make_unique<std::array<char, 16384>>();
            return self->discard_then_close();
          }
          if (!keep_alive) return self->close_gracefully();
          self->parser_.reset();
          self->wait_for_request();
        });
  }

  void close_gracefully() {
    if constexpr (kTls) {
      lowest().expires_after(std::chrono::seconds(5));
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->close_now(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      close_now();
    }
  }

  void close_now() {
    beast::error_code ignored;
    lowest().socket().close(ignored);
  }

  ServerState& state_;
  ListenerRuntime& listener_;
  const std::string remote_;
  const std::shared_ptr<ssl::context> tls_;  // keeps a reloaded-away context alive
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  bool idle_ = false;  // touched only on this session's thread
  bool discard_after_write_ = false;
  std::size_t discarded_ = 0;
  std::unique_ptr<std::array<char, 16384>> discard_buffer_;
};

// Each io thread runs its own io_context, as nginx runs one event loop per
// worker: a connection lives on one thread for its whole life, so nothing on
// the request path contends for a shared scheduler lock.
class IoContexts {
 public:
  explicit IoContexts(int count) {
    for (int i = 0; i < count; ++i) contexts_.push_back(std::make_unique<net::io_context>(1));
  }
  net::io_context& main() { return *contexts_.front(); }
  net::io_context& next() {
    return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
  }
  std::size_t size() const { return contexts_.size(); }
  net::io_context& at(std::size_t i) { return *contexts_[i]; }
  void stop_all() {
    for (auto& c : contexts_) c->stop();
  }

 private:
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  std::atomic<std::size_t> next_{0};
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(IoContexts& contexts, ServerState& state, ListenerRuntime& runtime)
      : contexts_(contexts), state_(state), runtime_(runtime), acceptor_(contexts.main()) {}

  Status bind(const std::string& host, unsigned short port) {
    beast::error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec) return invalid_argument("listener address " + host + " is not an IP address");
    tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
      return invalid_argument("cannot listen on " + runtime_.config.address + ": " + ec.message());
    return ok_status();
  }

  std::string bound_address() const {
    auto ep = acceptor_.local_endpoint();
    return ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  void accept() {
    acceptor_.async_accept(contexts_.next(),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                             if (ec == net::error::operation_aborted || self->state_.draining)
                               return;
                             if (!ec) self->start_session(std::move(socket));
                             self->accept();
                           });
  }

  void close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
    });
  }

 private:
  void start_session(tcp::socket socket) {
    beast::error_code ec;
    auto peer = socket.remote_endpoint(ec);
    std::string remote = ec ? std::string() : peer.address().to_string();
    socket.set_option(tcp::no_delay(true), ec);
    if (auto tls = runtime_.tls_context()) {
      using TlsStream = beast::ssl_stream<beast::tcp_stream>;
      auto session = std::make_shared<Session<TlsStream>>(state_, runtime_, std::move(remote), tls,
                                                          std::move(socket), *tls);
      state_.track(session);
      net::post(session->executor(), [session] { session->start(); });
    } else {
      auto session = std::make_shared<Session<beast::tcp_stream>>(
          state_, runtime_, std::move(remote), nullptr, std::move(socket));
      state_.track(session);
      net::post(session->executor(), [session] { session->start(); });
    }
  }

  IoContexts& contexts_;
  ServerState& state_;
  ListenerRuntime& runtime_;
  tcp::acceptor acceptor_;
};

Result<std::pair<std::string, unsigned short>> split_address(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return fail(invalid_argument("listener address " + address + " needs host:port"));
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const std::string port_text = address.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return fail(invalid_argument("listener address " + address + " has an invalid port"));
  }
  return std::pair{host, static_cast<unsigned short>(port)};
}

class BeastServer final : public Server {
 public:
  BeastServer(core::Core& core, ServerOptions options)
      : options_(std::move(options)),
        threads_(options_.io_threads > 0 ? options_.io_threads
                                         : std::max(1u, std::thread::hardware_concurrency())),
        contexts_(threads_),
        state_(core),
        signals_(contexts_.main(), SIGTERM, SIGINT, SIGHUP),
        drain_timer_(contexts_.main()) {}

  Status init() {
    for (const auto& config : options_.listeners) {
      auto runtime = std::make_unique<ListenerRuntime>();
      runtime->config = config;
      runtime->json_limits = {config.max_json_depth, config.max_json_strings};
      if (!config.tls_disable) {
        COFFER_ASSIGN_OR_RETURN(runtime->tls, make_tls_context(config));
      }
      COFFER_ASSIGN_OR_RETURN(auto host_port, split_address(config.address));
      auto listener = std::make_shared<Listener>(contexts_, state_, *runtime);
      COFFER_TRY(listener->bind(host_port.first, host_port.second));
      runtimes_.push_back(std::move(runtime));
      listeners_.push_back(std::move(listener));
    }
    return ok_status();
  }

  Status run() override {
    std::vector<std::string> addresses;
    for (auto& l : listeners_) {
      addresses.push_back(l->bound_address());
      l->accept();
    }
    wait_for_signal();
    if (options_.on_listening) options_.on_listening(addresses);
    // Keep the other loops alive while they have no connection yet.
    std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_alive;
    for (std::size_t i = 0; i < contexts_.size(); ++i) {
      keep_alive.push_back(net::make_work_guard(contexts_.at(i)));
    }
    std::vector<std::thread> pool;
    for (std::size_t i = 1; i < contexts_.size(); ++i) {
      pool.emplace_back([this, i] { contexts_.at(i).run(); });
    }
    contexts_.main().run();
    contexts_.stop_all();
    for (auto& t : pool) t.join();
    // Requests still in the blocking pool finish before the core they use goes away.
    state_.blocking.join();
    return ok_status();
  }

  void stop() override {
    net::post(contexts_.main(), [this] { begin_drain(); });
  }

 private:
  void wait_for_signal() {
    signals_.async_wait([this](beast::error_code ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        reload_certificates();
        if (options_.on_reload) options_.on_reload();
        wait_for_signal();
        return;
      }
      begin_drain();
    });
  }

  void reload_certificates() {
    for (auto& runtime : runtimes_) {
      if (runtime->config.tls_disable) continue;
      auto fresh = make_tls_context(runtime->config);
      if (!fresh) {
        log::error("certificate reload failed, keeping the old one: " + fresh.error().message());
        continue;
      }
      {
        std::lock_guard lock(runtime->tls_mutex);
        runtime->tls = std::move(*fresh);
      }
      log::info("certificates reloaded for listener " + runtime->config.address);
    }
  }

  void begin_drain() {
    if (state_.draining.exchange(true)) return;
    log::info("shutting down: draining in-flight requests");
    signals_.cancel();
    for (auto& l : listeners_) l->close();
    state_.close_idle_sessions();
    drain_deadline_ = std::chrono::steady_clock::now() + kDrainDeadline;
    poll_drain();
  }

  void poll_drain() {
    if (state_.active_sessions == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
      contexts_.stop_all();
      return;
    }
    state_.close_idle_sessions();
    drain_timer_.expires_after(std::chrono::milliseconds(50));
    drain_timer_.async_wait([this](beast::error_code ec) {
      if (!ec) poll_drain();
    });
  }

  ServerOptions options_;
  const int threads_;
  IoContexts contexts_;
  ServerState state_;
  net::signal_set signals_;
  net::steady_timer drain_timer_;
  std::chrono::steady_clock::time_point drain_deadline_;
  std::vector<std::unique_ptr<ListenerRuntime>> runtimes_;
  std::vector<std::shared_ptr<Listener>> listeners_;
};

}  // namespace

Result<std::unique_ptr<Server>> make_server(core::Core& core, ServerOptions options) {
  auto server = std::make_unique<BeastServer>(core, std::move(options));
  try {
    COFFER_TRY(server->init());
  } catch (const std::exception& e) {
    return fail(internal_error(std::string("cannot start the HTTP server: ") + e.what()));
  }
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace coffer::http
