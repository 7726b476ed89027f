// local_broker.h — the files of the local federation's MQTT broker (docs/local-federation.md "The
// broker", docs/agent-protocol.md "Broker accounts"): mosquitto's configuration (one loopback
// listener, persistence, the dynamic-security plugin), the plugin's JSON with the `cfm-admin`
// and `manager-<name>` accounts and the `admin` and `manager` roles (password hashes made here,
// PBKDF2-SHA512 as the plugin reads them, so that no password is ever on a command line), the
// password files (mode 0600), and each manager's `[broker]` section. local_cmd.cpp starts and
// stops the process.
#pragma once

#include "base/result.h"

#include <chrono>
#include <string>
#include <vector>

namespace cfm::driver {

struct BrokerFiles {
  std::string dir;           ///< DIR/broker
  std::string config;        ///< DIR/broker/mosquitto.conf
  std::string log;           ///< DIR/broker/mosquitto.log
  std::string url;           ///< tcp://127.0.0.1:PORT
  std::string adminPassword; ///< cfm-admin's (also in DIR/broker/admin-password)
};

/// The path of manager `name`'s broker password file: DIR/<name>/broker-password.
std::string managerPasswordFile(const std::string &dir, const std::string &name);

/// Writes DIR/broker/{mosquitto.conf,dynsec.json,admin-password} and one password file per
/// manager (fresh random passwords, files mode 0600), on a free loopback port.
Result<BrokerFiles> writeBrokerFiles(const std::string &dir, const std::vector<std::string> &managers);

/// Whether the broker at `url` accepts cfm-admin's login within `timeout` (an MQTT v5 connect).
Result<void> brokerAnswers(const BrokerFiles &b, std::chrono::milliseconds timeout);

/// The `[broker]` section of manager `name`'s configuration (docs/manager-config.md).
std::string brokerSection(const std::string &url, const std::string &name, const std::string &passwordFile);

/// The first executable `program` in a folder of $PATH; "" when none.
std::string findOnPath(const std::string &program);
/// mosquitto: on PATH, else /usr/sbin/mosquitto; "" when neither.
std::string findMosquitto();

} // namespace cfm::driver
