#include "netsim/control_server.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <chrono>
#include <thread>

#include "format/error.h"

namespace tandem::netsim {

using nlohmann::json;

static json link_json(const LinkConfig& l) {
  return {{"delay_ms", l.delay_ms},
          {"jitter_ms", l.jitter_ms},
          {"bandwidth_kbps", l.bandwidth_kbps},
          {"loss", l.loss},
          {"loss_mode", to_string(l.loss_mode)},
          {"loss_window_bytes", l.loss_window_bytes}};
}

std::string link_to_json(const LinkConfig& link) { return link_json(link).dump(); }

std::string stats_to_json(const ProxyStats& s) {
  return json{{"connections", s.connections}, {"open", s.open},
              {"bytes_up", s.bytes_up},       {"bytes_down", s.bytes_down},
              {"dropped", s.dropped},         {"stalled", s.stalled},
              {"cut", s.cut},                 {"upstream_failures", s.upstream_failures},
              {"dark", s.dark}}
      .dump();
}

LinkConfig link_from_json(const LinkConfig& base, const std::string& json_text) {
  const json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error("the body must be a JSON object");
  LinkConfig l = base;
  for (const auto& [key, v] : j.items()) {
    auto number = [&, &key = key, &v = v]() {
      if (!v.is_number()) throw Error("'" + key + "' must be a number");
      return v.get<double>();
    };
    if (key == "delay_ms") l.delay_ms = number();
    else if (key == "jitter_ms") l.jitter_ms = number();
    else if (key == "bandwidth_kbps") l.bandwidth_kbps = number();
    else if (key == "loss") l.loss = number();
    else if (key == "loss_mode") {
      if (!v.is_string()) throw Error("'loss_mode' must be \"reset\" or \"stall\"");
      l.loss_mode = parse_loss_mode(v.get<std::string>());
    } else if (key == "loss_window_bytes") {
      if (!v.is_number_unsigned()) throw Error("'loss_window_bytes' must be an integer >= 0");
      l.loss_window_bytes = v.get<uint64_t>();
    } else {
      throw Error("unknown key '" + key + "' (delay_ms, jitter_ms, bandwidth_kbps, loss, loss_mode, loss_window_bytes)");
    }
  }
  validate(l);
  return l;
}

struct ControlServer::Impl {
  Proxy& proxy;
  std::string host;
  int port;
  httplib::Server server;
  std::thread thread;
  Impl(Proxy& p, std::string h, int po) : proxy(p), host(std::move(h)), port(po) {}
};

ControlServer::ControlServer(Proxy& proxy, std::string host, int port)
    : impl_(std::make_unique<Impl>(proxy, std::move(host), port)) {}

ControlServer::~ControlServer() { stop(); }

int ControlServer::start() {
  Impl& m = *impl_;
  if (m.thread.joinable()) return m.port;
  auto reply = [](httplib::Response& res, const std::string& body) { res.set_content(body, "application/json"); };
  m.server.Post("/cut", [&m, reply](const httplib::Request&, httplib::Response& res) {
    reply(res, json{{"cut", m.proxy.cut_all()}}.dump());
  });
  m.server.Post("/dark", [&m, reply](const httplib::Request&, httplib::Response& res) {
    m.proxy.set_dark(true);
    reply(res, json{{"dark", true}}.dump());
  });
  m.server.Post("/light", [&m, reply](const httplib::Request&, httplib::Response& res) {
    m.proxy.set_dark(false);
    reply(res, json{{"dark", false}}.dump());
  });
  m.server.Get("/config", [&m, reply](const httplib::Request&, httplib::Response& res) {
    reply(res, link_to_json(m.proxy.link()));
  });
  m.server.Put("/config", [&m, reply](const httplib::Request& req, httplib::Response& res) {
    try {
      m.proxy.set_link(link_from_json(m.proxy.link(), req.body));
      reply(res, link_to_json(m.proxy.link()));
    } catch (const Error& e) {
      res.status = 400;
      reply(res, json{{"error", e.what()}}.dump());
    }
  });
  m.server.Get("/stats", [&m, reply](const httplib::Request&, httplib::Response& res) {
    reply(res, stats_to_json(m.proxy.stats()));
  });
  if (m.port == 0) {
    m.port = m.server.bind_to_any_port(m.host);
    if (m.port < 0) throw Error("the control API cannot listen on " + m.host);
  } else if (!m.server.bind_to_port(m.host, m.port)) {
    throw Error("the control API cannot listen on " + m.host + ":" + std::to_string(m.port));
  }
  m.thread = std::thread([&m] { m.server.listen_after_bind(); });
  // stop() before the server runs would not stop it: wait until it does.
  for (int i = 0; i < 5000 && !m.server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return m.port;
}

void ControlServer::stop() {
  Impl& m = *impl_;
  if (!m.thread.joinable()) return;
  m.server.stop();
  m.thread.join();
}

}  // namespace tandem::netsim
