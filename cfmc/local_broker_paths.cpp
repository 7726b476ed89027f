// local_broker_paths.cpp — the parts of local_broker.h that cfmc runs itself (paths, the
// `[broker]` section, finding mosquitto); writeBrokerFiles and brokerAnswers are in
// local_broker.cpp, inside libcfm_manager_module.so (manager_module.h).
#include "cfmc/local_broker.h"

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace cfm::driver {

std::string managerPasswordFile(const std::string &dir, const std::string &name) {
  return (fs::path(dir) / name / "broker-password").string();
}

std::string brokerSection(const std::string &url, const std::string &name, const std::string &passwordFile) {
  nlohmann::json u(url), n("manager-" + name), p(passwordFile);
  return "\n[broker]\nurl = " + u.dump() + "\nusername = " + n.dump() + "\npassword_file = " + p.dump() +
         "\n";
}

std::string findOnPath(const std::string &program) {
  if (const char *path = std::getenv("PATH")) {
    std::istringstream dirs(path);
    std::string d;
    while (std::getline(dirs, d, ':')) {
      fs::path p = fs::path(d.empty() ? "." : d) / program;
      if (access(p.c_str(), X_OK) == 0) return p;
    }
  }
  return "";
}

std::string findMosquitto() {
  std::string p = findOnPath("mosquitto");
  if (p.empty() && access("/usr/sbin/mosquitto", X_OK) == 0) p = "/usr/sbin/mosquitto";
  return p;
}

} // namespace cfm::driver
