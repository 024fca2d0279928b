// tandem netsim: a TCP proxy that emulates the network between device and cloud
// (src/netsim, docs/netsim.md). Runs until SIGINT/SIGTERM; SIGUSR1 cuts every connection,
// SIGUSR2 toggles dark; --control serves the HTTP control API.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <memory>
#include <pthread.h>

#include "format/error.h"
#include "netsim/control_server.h"
#include "netsim/proxy.h"
#include "tools/commands.h"

namespace tandem::tools {

static std::string describe(const netsim::LinkConfig& l) {
  char s[256];
  std::snprintf(s, sizeof s, "delay %g ms ± %g (RTT %g ms), bandwidth %s, loss %g (%s)", l.delay_ms, l.jitter_ms,
                2 * l.delay_ms, l.bandwidth_kbps > 0 ? (std::to_string(int64_t(l.bandwidth_kbps)) + " kbit/s").c_str() : "unlimited",
                l.loss, netsim::to_string(l.loss_mode));
  return s;
}

int cmd_netsim(int argc, char** argv) {
  CLI::App app{"Emulate a network between clients and one upstream: a TCP proxy with delay, jitter, bandwidth and loss",
               argv[0]};
  std::string listen, upstream, control, loss_mode = "reset";
  netsim::ProxyConfig cfg;
  app.add_option("--listen", listen, "HOST:PORT to accept clients on (port 0: any free port)")->required();
  app.add_option("--upstream", upstream, "HOST:PORT to forward to")->required();
  app.add_option("--delay-ms", cfg.link.delay_ms, "one-way delay of each direction (RTT = 2x)")->capture_default_str();
  app.add_option("--jitter-ms", cfg.link.jitter_ms, "each chunk's delay varies uniformly by +-this")->capture_default_str();
  app.add_option("--bandwidth-kbps", cfg.link.bandwidth_kbps, "kbit/s of each direction (0: unlimited)")->capture_default_str();
  app.add_option("--loss", cfg.link.loss, "probability that a new connection is lost")->capture_default_str();
  app.add_option("--loss-mode", loss_mode, "what a lost connection does: reset | stall")->capture_default_str();
  app.add_option("--loss-window", cfg.link.loss_window_bytes,
                 "a lost connection fails after k bytes, k uniform in [0, this); 0: at once")
      ->capture_default_str();
  app.add_option("--seed", cfg.seed, "seed of the jitter and loss draws")->capture_default_str();
  app.add_option("--capture", cfg.capture_up, "append every byte sent to the upstream to this file");
  app.add_option("--capture-down", cfg.capture_down, "append every byte sent back to the clients to this file");
  app.add_option("--control", control, "HOST:PORT of the HTTP control API (POST /cut /dark /light, PUT /config, GET /stats)");
  CLI11_PARSE(app, argc, argv);

  // The signals go to this thread's sigwait, not to the proxy's threads.
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGINT, SIGTERM, SIGUSR1, SIGUSR2}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    const netsim::HostPort l = netsim::parse_host_port(listen, "--listen", true);
    const netsim::HostPort u = netsim::parse_host_port(upstream, "--upstream", false);
    cfg.listen_host = l.host;
    cfg.listen_port = l.port;
    cfg.upstream_host = u.host;
    cfg.upstream_port = u.port;
    cfg.link.loss_mode = netsim::parse_loss_mode(loss_mode);
    netsim::validate(cfg.link);
    netsim::Proxy proxy(cfg);
    const int port = proxy.start();
    std::fprintf(stderr, "tandem netsim: %s:%d -> %s:%d, %s\n", cfg.listen_host.c_str(), port, u.host.c_str(), u.port,
                 describe(cfg.link).c_str());
    if (!cfg.capture_up.empty()) std::fprintf(stderr, "tandem netsim: capturing upstream bytes to %s\n", cfg.capture_up.c_str());
    if (!cfg.capture_down.empty())
      std::fprintf(stderr, "tandem netsim: capturing downstream bytes to %s\n", cfg.capture_down.c_str());
    std::unique_ptr<netsim::ControlServer> ctl;
    if (!control.empty()) {
      const netsim::HostPort c = netsim::parse_host_port(control, "--control", true);
      ctl = std::make_unique<netsim::ControlServer>(proxy, c.host, c.port);
      const int cport = ctl->start();
      std::fprintf(stderr, "tandem netsim: control API on http://%s:%d\n", c.host.c_str(), cport);
    }
    std::fprintf(stderr, "tandem netsim: SIGUSR1 cuts every connection, SIGUSR2 toggles dark, SIGINT/SIGTERM stops\n");
    std::fflush(stderr);
    for (;;) {
      int sig = 0;
      sigwait(&sigs, &sig);
      if (sig == SIGUSR1) {
        std::fprintf(stderr, "tandem netsim: SIGUSR1, cut %zu connections\n", proxy.cut_all());
      } else if (sig == SIGUSR2) {
        proxy.set_dark(!proxy.dark());
        std::fprintf(stderr, "tandem netsim: SIGUSR2, %s\n", proxy.dark() ? "dark" : "light");
      } else {
        std::fprintf(stderr, "tandem netsim: %s, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
      }
      std::fflush(stderr);
    }
    if (ctl) ctl->stop();
    proxy.stop();
    std::fprintf(stderr, "tandem netsim: stopped; %s\n", netsim::stats_to_json(proxy.stats()).c_str());
  } catch (const Error& e) {
    std::fprintf(stderr, "tandem netsim: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
