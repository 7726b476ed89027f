// local_cloud_config.h — `cfmc local up --cloud-config FILE`: the settings every local cloud
// shares (quotas, request rate, boot and stop delays, forwarded ports, images, instance types),
// read from a TOML file in cfm-cloud's own format (docs/local-federation.md) and written into
// each cloud's generated cloud.toml; `up`'s flags override the file's values.
#pragma once

#include "base/result.h"

#include <optional>
#include <string>

namespace cfm::driver {

/// What a --cloud-config file gives; a value not in the file is empty.
struct LocalCloudSettings {
  std::optional<long> instances, vcpus, addresses, bootDelayMs, stopDelayMs;
  std::optional<double> rate, burst;
  std::string forwardPorts;   ///< TOML `forward_ports = [...]` line for [cloud], or empty
  std::string imagesAndTypes; ///< TOML [[images]] and [[instance_types]] tables, or empty
};

/// Reads FILE: only [cloud] boot_delay_ms, stop_delay_ms, forward_ports; [quotas] instances,
/// vcpus, addresses; [throttle] rate, burst; [[images]] { id, name, command }; [[instance_types]]
/// { name, vcpus, memory_mib } — anything else (a cloud's name, listen address, keys or state
/// folder, which `up` chooses) is an error naming the key and the file.
Result<LocalCloudSettings> readLocalCloudSettings(const std::string &path);

} // namespace cfm::driver
