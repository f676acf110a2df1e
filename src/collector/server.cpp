#include "wattprint/collector.h"

#include <sys/socket.h>

#include <string>

#include "collector/api.h"
#include "collector/dashboard.h"

namespace wattprint::collector {

namespace {

// An Accept-Encoding list without its "br" entries ("gzip, deflate, br;q=1"
// -> "gzip, deflate").
std::string WithoutBrotli(const std::string& accepted) {
  std::string out;
  size_t from = 0;
  while (from <= accepted.size()) {
    size_t comma = accepted.find(',', from);
    if (comma == std::string::npos) comma = accepted.size();
    std::string item = accepted.substr(from, comma - from);
    item.erase(0, item.find_first_not_of(" \t"));
    const std::string name = item.substr(0, item.find_first_of(" \t;"));
    if (!item.empty() && name != "br") out += (out.empty() ? "" : ", ") + item;
    from = comma + 1;
  }
  return out;
}

}  // namespace

struct Server::Impl {
  Impl(store::Store& s, Options o) : api(s, o.budget_start_month), options(std::move(o)) {}
  Api api;
  Options options;
  httplib::Server http;
  int port = 0;
  bool bound = false;
  int listen_fd = -1;
};

Server::Server(store::Store& store, Options options) : impl_(std::make_unique<Impl>(store, std::move(options))) {
  httplib::Server& http = impl_->http;
  const int threads = std::max(1, impl_->options.threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http.set_payload_max_length(impl_->options.max_body_bytes);
  // httplib listens with a backlog of 5: a burst of agents at the end of a
  // cluster job would overflow it. Keep the socket to listen again, longer.
  http.set_socket_options([this](int fd) {
    httplib::default_socket_options(fd);
    impl_->listen_fd = fd;
  });
  // Small answers leave at once (httplib writes headers and body apart,
  // and Nagle held the body back for the peer's delayed ACK: 40 ms a
  // request). An idle kept-alive connection holds a worker: a browser keeps
  // six, so they are let go after 2 s.
  http.set_tcp_nodelay(true);
  // Debian's httplib compresses with Brotli at its slowest quality whenever
  // a client accepts it, as every browser does: 300 ms for uPlot's 145 kB
  // against 7 ms with gzip. Take "br" out of what such clients accept, so
  // they get gzip (or nothing) instead. (The request is httplib's own, not
  // const: only its handlers see it so.)
  http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    auto& headers = const_cast<httplib::Request&>(req).headers;
    auto [first, last] = headers.equal_range("Accept-Encoding");  // the map ignores case
    for (auto it = first; it != last; ++it) it->second = WithoutBrotli(it->second);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_keep_alive_timeout(2);
  http.set_keep_alive_max_count(100);
  http.set_read_timeout(10, 0);
  http.set_write_timeout(10, 0);
  AddCodeCarbonRoutes(http, impl_->api);
  AddV1Routes(http, impl_->api);
  AddV1ListRoutes(http, impl_->api);
  AddV1ViewRoutes(http, impl_->api);
  AddBudgetRoutes(http, impl_->api);
  AddDashboardRoutes(http, impl_->options.dashboard_dir);
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* what = res.status == 404   ? "no such route"
                       : res.status == 413 ? "the body is over the size limit"
                                           : "bad request";
    res.set_content(json{{"error", what}}.dump(), "application/json");
  });
}

Server::~Server() { Stop(); }

Status Server::Bind() {
  Impl& i = *impl_;
  if (i.options.port == 0) {
    i.port = i.http.bind_to_any_port(i.options.host);
    if (i.port <= 0) return Status::IOError("cannot listen on " + i.options.host);
  } else {
    if (!i.http.bind_to_port(i.options.host, i.options.port)) {
      return Status::IOError("cannot listen on " + i.options.host + ":" + std::to_string(i.options.port) +
                             " (taken, or not an address of this machine)");
    }
    i.port = i.options.port;
  }
  if (i.listen_fd >= 0) ::listen(i.listen_fd, SOMAXCONN);
  i.bound = true;
  return Status::Ok();
}

void Server::Serve() {
  if (impl_->bound) impl_->http.listen_after_bind();
}

void Server::Stop() {
  if (impl_ && impl_->bound) impl_->http.stop();
}

int Server::port() const { return impl_->port; }

}  // namespace wattprint::collector
