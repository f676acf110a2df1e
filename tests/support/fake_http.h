// A fake HTTP server on 127.0.0.1 (ephemeral port) for tests of the cloud
// metadata probe and the live intensity providers: handlers answer with the
// providers' documented bodies, errors or delays, and every request is
// counted, so a test can show that a cache hit makes none.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace wattprint::testing {

class FakeHttpServer {
 public:
  FakeHttpServer() {
    server_.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
      ++requests_;
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }
  ~FakeHttpServer() { Stop(); }
  httplib::Server& server() { return server_; }
  // Binds and serves on a background thread; call after adding handlers.
  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // The socket already listens; wait until the accept loop runs, so Stop()
    // cannot come before it (stop() only ends a running loop).
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0};
};

}  // namespace wattprint::testing
