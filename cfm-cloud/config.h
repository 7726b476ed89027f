// config.h — cfm-cloud's configuration (contract 2 of issue 13; every key and default is listed in
// cfm-cloud/README.md): the cloud's name and index, where it listens, its region and zones, its state
// directory, delays, forwarded ports, access keys, quotas, throttle, images and instance types.
#pragma once
#include "base/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cfm::cloud {

struct AccessKey {
  std::string id, secret;
};

struct Image {
  std::string id, name;
  std::vector<std::string> command;
};

struct InstanceType {
  std::string name;
  int64_t vcpus = 1, memoryMib = 512;
};

struct CloudConfig {
  std::string name;
  int index = 1; // 1..254: addresses 127.<index>.n.m
  std::string listenHost = "127.0.0.1";
  int listenPort = 0;             // 0: a free port
  std::string region;             // default "local-<name>"
  std::vector<std::string> zones; // default ["<region>-1"]
  std::string stateDir;           // absolute after loading
  int64_t bootDelayMs = 200, stopDelayMs = 100;
  std::vector<int> forwardPorts{22, 80, 443, 5432, 8080, 9000};
  std::vector<AccessKey> accessKeys;
  int64_t quotaInstances = 20, quotaVcpus = 64, quotaAddresses = 5;
  double throttleRate = 50.0, throttleBurst = 100.0;
  std::vector<Image> images;
  std::vector<InstanceType> instanceTypes;
};

/// Reads the TOML file at `path` (relative paths in it are relative to the file's folder) and
/// fills the defaults. `selfDir` is the folder of the cfm-cloud executable (the default image
/// runs `cfm-agent` from there when it exists).
Result<CloudConfig> loadConfig(const std::string &path, const std::string &selfDir);

/// Parses configuration text (for the tests); `baseDir` resolves relative paths.
Result<CloudConfig> parseConfig(std::string_view text, const std::string &sourceName,
                                const std::string &baseDir, const std::string &selfDir);

} // namespace cfm::cloud
