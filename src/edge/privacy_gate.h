// The gateway's PrivacyGate on the PII detector of src/privacy (docs/privacy.md): strict keeps
// every request on the device unless the user consented (then it leaves redacted, as under
// standard; the findings without consent only say what consent would send), standard sends it
// out with typed placeholders and restores the values in the answer (also across streamed
// chunks), open changes nothing. It fails closed: a detector error or timeout keeps the request
// on the device.
//
// Placeholders are consistent across a conversation's turns because an app resends the whole
// conversation with each request: the map is filled in message order, so a value keeps the
// placeholder of its first appearance. The map lives only on the device, for one request.
#pragma once
#include "edge/hooks.h"
#include "privacy/guard.h"

namespace tandem::edge {

class DetectorPrivacyGate : public PrivacyGate {
 public:
  explicit DetectorPrivacyGate(privacy::GuardOptions options = {}) : guard_(std::move(options)) {}
  PrivacyVerdict inspect(const PrivacyInput& in) override;
  std::string name() const override { return "tandem-pii"; }

 private:
  privacy::Guard guard_;
};

}  // namespace tandem::edge
