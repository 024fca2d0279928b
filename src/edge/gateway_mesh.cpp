// The gateway's side of the LAN mesh (docs/mesh.md): hearing peers' adverts and turning them
// into PEER endpoints, and advertising this gateway's own device model.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "edge/gateway.h"
#include "format/error.h"
#include "mesh/announcer.h"
#include "mesh/listener.h"

namespace tandem::edge {

int Gateway::mesh_port() const { return mesh_listener_ ? mesh_listener_->port() : -1; }

void Gateway::start_mesh() {
  std::string key;
  if (!cfg_.mesh_key_env.empty()) {
    const char* k = std::getenv(cfg_.mesh_key_env.c_str());
    if (!k || !*k) throw Error("mesh.key_env names " + cfg_.mesh_key_env + ", which is not set");
    key = k;
  }
  // This gateway's own name first: the listener compares every advert with it.
  std::string url = cfg_.mesh_url;
  if (!cfg_.mesh_advertise.empty()) {
    if (url.empty()) {
      if (cfg_.host == "0.0.0.0" || cfg_.host == "::")
        throw Error("mesh.advertise needs mesh.url when edge.host is " + cfg_.host + " (which address should peers call?)");
      url = "http://" + cfg_.host + ":" + std::to_string(port_);
    }
    mesh_name_ = cfg_.mesh_name;
    if (mesh_name_.empty()) {
      char host[256] = {};
      ::gethostname(host, sizeof host - 1);
      mesh_name_ = std::string(host) + ":" + std::to_string(port_);
    }
  }
  if (!cfg_.mesh_listen.empty()) {
    mesh_listener_ = std::make_unique<mesh::Listener>(
        mesh::ListenerConfig{.listen = cfg_.mesh_listen, .key = key},
        [this](const mesh::Advert& a, bool signed_ok) {
          if (a.name == mesh_name_) return;  // our own advert, heard back
          if (!signed_ok && !cfg_.mesh_accept_unsigned) return;
          EndpointConfig ec = cfg_.mesh_peer;
          ec.name = a.name;
          ec.url = a.url;
          ec.peer = true;
          const int64_t now = clock_();
          const EndpointHealth::Discovery d{.kind = a.kind, .signed_ok = signed_ok, .slots = a.slots, .idle = a.idle,
                                            .queue = a.queue, .last_seen_ms = now, .expires_at_ms = now + 3 * a.interval_ms};
          bool added = false;
          auto e = conn_->add_discovered(ec, d, &added);
          if (!e || !added) return;
          std::fprintf(stderr, "tandem edge: mesh: found %s %s at %s (%s)\n", a.kind.c_str(), a.name.c_str(), a.url.c_str(),
                       a.model.c_str());
          note_model(*e, a.model, a.vocab_fingerprint, a.sha256);
        },
        [this] {
          for (const auto& name : conn_->expire_discovered())
            std::fprintf(stderr, "tandem edge: mesh: %s went silent\n", name.c_str());
        });
    mesh_listener_->start();
    std::fprintf(stderr, "tandem edge: mesh: listening for peers on %s (port %d, %s)\n", cfg_.mesh_listen.c_str(),
                 mesh_listener_->port(),
                 !key.empty()                  ? "signed adverts only"
                 : cfg_.mesh_accept_unsigned ? "unsigned adverts accepted"
                                              : "no key: unsigned adverts ignored");
  }
  if (!cfg_.mesh_advertise.empty()) {
    mesh::AnnouncerConfig ac;
    ac.advert.name = mesh_name_;
    ac.advert.url = url;
    ac.advert.kind = "edge";
    ac.advert.model = local_->model_id();
    ac.advert.vocab_fingerprint = local_->vocab_fingerprint();
    ac.advert.interval_ms = cfg_.mesh_interval_ms;
    ac.targets = cfg_.mesh_advertise;
    ac.key = key;
    mesh_announcer_ = std::make_unique<mesh::Announcer>(ac, [this] {
      const int32_t slots = cfg_.device_parallel;
      const serve::GenerationLoad load = local_->load();
      const auto active = int32_t(load.active), queued = int32_t(load.queued);
      return mesh::Capacity{slots, slots - active, queued};
    });
    mesh_announcer_->start();
  }
}

}  // namespace tandem::edge
