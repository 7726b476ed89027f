// config_share.h — configuration sharing between managers (issue 15; API.md "Protocols"):
// each system's configuration as a retained message on `cfm/v1/systems/<id>/config`, versioned,
// with one conflict rule every manager applies the same way (runtime/fed/README.md,
// "Configuration"). The node's worker owns a ConfigShare and calls it; it does no I/O of its
// own but the store: what to publish and what happened come back as values.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "net/mqtt.h"
#include "runtime/model/model.h"
#include "runtime/store/store.h"

namespace cfm::fed {

/// A system's configuration as text and back (cfmd gives OVF: ovf::write / ovf::importText).
struct ConfigCodec {
  std::function<Result<std::string>(const model::BusinessSystem &)> encode;
  std::function<Result<model::BusinessSystem>(const std::string &text)> decode;
  explicit operator bool() const { return encode && decode; }
};

/// The topic of a system's configuration: cfm/v1/systems/<id>/config.
std::string configTopic(const std::string &system);
/// The system of a configuration topic, "" when TOPIC is not one.
std::string configTopicSystem(const std::string &topic);

/// Fencing (runtime/fed/README.md, "Ownership"): why MANAGER must not act on clouds for the
/// system recorded as C, or "" when it may. A manager that owned the system at an epoch older
/// than the current one, under another owner, is fenced; so is the owner itself until its node
/// has heard from the broker since it started (SYNCED: it may have been taken over meanwhile).
/// Managers that never owned the system (peers serving a scale-out) are not.
std::string fenceReason(const store::Store::SharedConfig &c, const std::string &manager, bool synced);

class ConfigShare {
public:
  ConfigShare(store::Store &store, std::string manager, ConfigCodec codec,
              std::function<bool(const std::string &)> follows, std::function<void(const std::string &)> log);

  struct Outcome {
    std::vector<net::MqttMessage> publish;                ///< retained configurations to send
    std::vector<std::pair<std::string, int64_t>> changed; ///< (system, new config version): config_changed
  };

  /// Looks for local changes (a system whose row version moved past the one its configuration
  /// version was recorded with, or that has none yet) and gives each a new version of this
  /// manager. ALL: also republishes every other system's current configuration (after a
  /// (re)connection: a broker that lost its retained messages gets them back).
  Outcome scan(bool all);
  /// A configuration that arrived: applied when its version is larger than this store's (the
  /// system saved, its version recorded), answered with this store's own when smaller (so the
  /// retained message converges to the largest), ignored when equal.
  Outcome receive(const net::MqttMessage &m);

private:
  Result<net::MqttMessage> messageOf(const store::Store::SharedConfig &c);
  /// The local change of SYSTEM, if any, made a version (into OUT).
  Result<void> versionLocalChange(const std::string &system, int64_t rowVersion, bool republish,
                                  Outcome &out);

  store::Store &store_;
  std::string manager_;
  ConfigCodec codec_;
  std::function<bool(const std::string &)> follows_;
  std::function<void(const std::string &)> log_;
};

} // namespace cfm::fed
