// manager_module.cpp — the module's side of manager_module.h: the entry `cfm_manager_module` of
// libcfm_manager_module.so, its table pointing at the cloud driver's openManager and the local
// broker's writeBrokerFiles and brokerAnswers (local_broker.cpp, built into the module only) and
// `cfmc demo` (demo_cmd.cpp, demo_load.cpp, likewise),
// each wrapped so that no exception crosses the table.
#include "cfmc/manager_module.h"

#include "cfmc/demo_cmd.h"

#include <exception>
#include <iostream>

namespace cfm::driver {

namespace {

template <class F> auto guarded(const char *what, F &&f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception &e) {
    return Error{ErrorKind::Internal, std::string(what) + ": " + e.what()};
  } catch (...) {
    return Error{ErrorKind::Internal, std::string(what) + ": unknown exception"};
  }
}

Result<std::unique_ptr<rt::cloud::OpenedManager>> openManagerEntry(const std::string &configPath) {
  return guarded("cannot open the manager", [&] { return rt::cloud::openManager(configPath); });
}

Result<BrokerFiles> writeBrokerFilesEntry(const std::string &dir, const std::vector<std::string> &managers) {
  return guarded("cannot write the broker's files", [&] { return writeBrokerFiles(dir, managers); });
}

Result<void> brokerAnswersEntry(const BrokerFiles &b, std::chrono::milliseconds timeout) {
  return guarded("cannot reach the broker", [&] { return brokerAnswers(b, timeout); });
}

int demoEntry(const std::vector<std::string> &args) {
  try {
    return cmdDemo(args);
  } catch (const std::exception &e) {
    std::cerr << "cfmc: error: demo: " << e.what() << '\n';
  } catch (...) {
    std::cerr << "cfmc: error: demo: unknown exception\n";
  }
  return 1;
}

constexpr ManagerModule kTable{kManagerModuleVersion, openManagerEntry, writeBrokerFilesEntry,
                               brokerAnswersEntry, demoEntry};

} // namespace

} // namespace cfm::driver

extern "C" __attribute__((visibility("default"))) const cfm::driver::ManagerModule *cfm_manager_module() {
  return &cfm::driver::kTable;
}
