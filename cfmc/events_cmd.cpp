// events_cmd.cpp — `cfmc events SYS [--manager NAME | --config FILE] [--follow] [--json]`: the
// events of a system in the order they reached the manager (its store's history: its own
// events, the ones received from the other managers, and the presence it observed).
#include "cfmc/events_cmd.h"

#include "base/text.h"
#include "cfmc/context.h"
#include "runtime/cloud/config.h"
#include "runtime/store/store.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

namespace cfm::driver {

namespace {

const char *const kHelp =
    R"(usage: cfmc events SYS [--manager NAME | --config FILE] [--context FILE] [options]

Prints the cloud events of business system SYS (its name or id) as manager NAME holds them:
its own events, those received from the other managers of the federation and the presence it
observed (manager_joined, manager_lost), in the order they reached it. The manager is found as
for `cfmc run` (--manager NAME or $CFM_MANAGER in the context file, or --config FILE); its store
is only read, so this works whether or not the manager is running.

Each line: the time it reached the manager (UTC), the source manager and its seq, the name,
the data.

options:
  --name EVENT   only events named EVENT
  --follow, -f   keep printing events as they arrive (until interrupted)
  --json         one JSON object a line: system, source, seq, name, data, published_at,
                 received_at (ms since the epoch)
  -h, --help     this help
)";

int usage(const std::string &msg) {
  std::cerr << "cfmc events: " << msg << "\n\n" << kHelp;
  return 2;
}

volatile std::sig_atomic_t gStop = 0;

} // namespace

int cmdEvents(const std::vector<std::string> &args) {
  ManagerChoice choice;
  std::string system, only;
  bool follow = false, json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kHelp;
      return 0;
    }
    if (a == "--follow" || a == "-f") {
      follow = true;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--manager" || a == "--config" || a == "--context" || a == "--name") {
      if (i + 1 >= args.size()) return usage("`" + a + "` needs a value");
      const std::string &v = args[++i];
      (a == "--manager"   ? choice.manager
       : a == "--config"  ? choice.config
       : a == "--context" ? choice.context
                          : only) = v;
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option `" + a + "`");
    } else if (system.empty()) {
      system = a;
    } else {
      return usage("one system at a time (got `" + system + "` and `" + a + "`)");
    }
  }
  if (system.empty()) return usage("which system? give its name or id");
  auto configPath = managerConfigPath(choice);
  if (!configPath) {
    std::cerr << "cfmc events: " << configPath.error().describe() << "\n";
    return configPath.error().kind == ErrorKind::Usage ? 2 : 1;
  }
  if (configPath->empty())
    return usage("no manager: pass --manager NAME or --config FILE, or set CFM_MANAGER");
  auto config = rt::cloud::readManagerConfig(*configPath);
  if (!config) {
    std::cerr << config.error().describe() << "\n";
    return 1;
  }
  auto st = store::Store::openReadOnly(config->storePath);
  if (!st) {
    std::cerr << "cfmc events: " << st.error().describe() << "\n";
    return 1;
  }
  store::Store &store = **st;
  // The system's id: a system of the store by name or id, else the key itself (a system this
  // manager follows without holding its model has events keyed by its id).
  std::string key = system;
  if (auto all = store.listSystems(); all) {
    for (const auto &s : *all)
      if (s.id == system || s.name == system) key = s.id;
  } else {
    std::cerr << "cfmc events: " << all.error().describe() << "\n";
    return 1;
  }
  std::signal(SIGINT, [](int) { gStop = 1; });
  std::signal(SIGTERM, [](int) { gStop = 1; });
  int64_t after = 0;
  for (;;) {
    auto page = store.eventsAfter(after, key, only, 1000);
    if (!page) {
      std::cerr << "cfmc events: " << page.error().describe() << "\n";
      return 1;
    }
    for (const auto &ev : *page) {
      after = ev.id;
      if (json) {
        nlohmann::json j{{"system", ev.system},
                         {"source", ev.source},
                         {"seq", ev.seq},
                         {"name", ev.name},
                         {"data", nlohmann::json::parse(ev.dataJson, nullptr, false)},
                         {"published_at", ev.publishedAt},
                         {"received_at", ev.receivedAt}};
        std::cout << j.dump() << "\n";
      } else {
        std::cout << base::isoTimeMs(ev.receivedAt) << "  " << ev.source << "#" << ev.seq << "  " << ev.name
                  << "  " << ev.dataJson << "\n";
      }
    }
    std::cout.flush();
    if (page->size() == 1000) continue;
    if (!follow || gStop) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (gStop) return 0;
  }
}

} // namespace cfm::driver
