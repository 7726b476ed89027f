// takeover_cmd.cpp — `cfmc takeover SYS` and `cfmc owner SYS` (takeover_cmd.h): ownership of a
// business system as one manager's store records it. A takeover is written to the manager's
// store (as `cfmc ovf import` writes); the manager's federation node shares it as a new
// configuration version, which every manager applies (the higher epoch wins), and the old owner
// stands down for the system when it learns it (fencing).
#include "cfmc/takeover_cmd.h"

#include "cfmc/context.h"
#include "runtime/cloud/config.h"
#include "runtime/store/store.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace cfm::driver {

namespace {

const char *const kTakeoverHelp =
    R"(usage: cfmc takeover SYS [--manager NAME | --config FILE] [--context FILE]

Makes manager NAME the owner of business system SYS (its name or id) at the next epoch: the
disaster-recovery step after SYS's owner was lost. The manager's store records it at once; its
daemon shares it with the federation within a second (a new configuration version, which wins
over every change made under an older epoch). A manager that owned SYS before stands down for
it when it learns of the takeover: its run_vm, terminate_vm, attach_volume and associate_address
for SYS fail with the "cloud" error `fenced` (also while it has not yet heard from the broker
after a restart). `cfmc takeover SYS --manager OLD` later gives it back.

The manager is found as for `cfmc run` (--manager NAME or $CFM_MANAGER in the context file, or
--config FILE). Exit status: 0 done, 1 failure (no such system, no store), 2 bad usage.
)";

const char *const kOwnerHelp =
    R"(usage: cfmc owner SYS [--manager NAME | --config FILE] [--context FILE] [--json]

Prints who owns business system SYS (its name or id) as manager NAME's store records it: the
owner, the epoch, the configuration version (number and the manager that made it), and whether
NAME itself owned it at an older epoch (then it is fenced for SYS). `--json`: the same as one
JSON object (system, owner, epoch, version, version_by, held_epoch). A system not shared yet
(the manager has no federation, or its daemon has not run since the import) has no owner.
)";

int usage(const char *cmd, const char *help, const std::string &msg) {
  std::cerr << "cfmc " << cmd << ": " << msg << "\n\n" << help;
  return 2;
}

struct Opened {
  std::string managerName;
  std::unique_ptr<store::Store> store;
};

/// Parses SYS and the manager options; opens the manager's store (read-only unless WRITE).
/// Returns an exit status when it cannot go on.
int open(const char *cmd, const char *help, const std::vector<std::string> &args, bool write, bool *json,
         std::string &system, Opened &out) {
  ManagerChoice choice;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << help;
      return -1;
    }
    if (json && a == "--json") {
      *json = true;
    } else if (a == "--manager" || a == "--config" || a == "--context") {
      if (i + 1 >= args.size()) return usage(cmd, help, "`" + a + "` needs a value");
      const std::string &v = args[++i];
      (a == "--manager" ? choice.manager : a == "--config" ? choice.config : choice.context) = v;
    } else if (!a.empty() && a[0] == '-') {
      return usage(cmd, help, "unknown option `" + a + "`");
    } else if (system.empty()) {
      system = a;
    } else {
      return usage(cmd, help, "one system at a time (got `" + system + "` and `" + a + "`)");
    }
  }
  if (system.empty()) return usage(cmd, help, "which system? give its name or id");
  auto configPath = managerConfigPath(choice);
  if (!configPath) {
    std::cerr << "cfmc " << cmd << ": " << configPath.error().describe() << "\n";
    return configPath.error().kind == ErrorKind::Usage ? 2 : 1;
  }
  if (configPath->empty())
    return usage(cmd, help, "no manager: pass --manager NAME or --config FILE, or set CFM_MANAGER");
  auto config = rt::cloud::readManagerConfig(*configPath);
  if (!config) {
    std::cerr << config.error().describe() << "\n";
    return 1;
  }
  out.managerName = config->managerName;
  auto st = write ? store::Store::open(config->storePath) : store::Store::openReadOnly(config->storePath);
  if (!st) {
    std::cerr << "cfmc " << cmd << ": " << st.error().describe() << "\n";
    return 1;
  }
  out.store = std::move(*st);
  return 0;
}

} // namespace

int cmdTakeover(const std::vector<std::string> &args) {
  std::string system;
  Opened o;
  if (int s = open("takeover", kTakeoverHelp, args, true, nullptr, system, o)) return s < 0 ? 0 : s;
  auto before = o.store->systemVersion(system);
  if (before && *before == 0) {
    std::cerr << "cfmc takeover: no business system `" << system << "` in manager " << o.managerName
              << "'s store\n";
    return 1;
  }
  auto taken = o.store->takeOver(system, o.managerName);
  if (!taken) {
    std::cerr << "cfmc takeover: " << taken.error().describe() << "\n";
    return 1;
  }
  std::cout << system << " (" << taken->system << "): owner " << taken->owner << ", epoch " << taken->epoch
            << "; manager " << o.managerName << "'s daemon shares it with the federation\n";
  return 0;
}

int cmdOwner(const std::vector<std::string> &args) {
  std::string system;
  bool json = false;
  Opened o;
  if (int s = open("owner", kOwnerHelp, args, false, &json, system, o)) return s < 0 ? 0 : s;
  std::string id = system;
  auto all = o.store->listSystems();
  if (!all) {
    std::cerr << "cfmc owner: " << all.error().describe() << "\n";
    return 1;
  }
  bool known = false;
  for (const auto &s : *all)
    if (s.id == system || s.name == system) id = s.id, known = true;
  if (!known) {
    std::cerr << "cfmc owner: no business system `" << system << "` in manager " << o.managerName
              << "'s store\n";
    return 1;
  }
  auto rec = o.store->sharedConfig(id);
  if (!rec) {
    std::cerr << "cfmc owner: " << rec.error().describe() << "\n";
    return 1;
  }
  if (json) {
    nlohmann::json j{{"system", id}, {"manager", o.managerName}};
    if (*rec)
      j.update({{"owner", (*rec)->owner},
                {"epoch", (*rec)->epoch},
                {"version", (*rec)->configVersion},
                {"version_by", (*rec)->manager},
                {"held_epoch", (*rec)->heldEpoch}});
    else
      j["owner"] = nullptr;
    std::cout << j.dump() << "\n";
    return 0;
  }
  if (!*rec) {
    std::cout << system << " (" << id << "): not shared yet, no owner\n";
    return 0;
  }
  const auto &r = **rec;
  std::cout << system << " (" << id << "): owner " << r.owner << ", epoch " << r.epoch << ", version "
            << r.configVersion << " by " << r.manager;
  if (r.owner != o.managerName && r.heldEpoch > 0 && r.heldEpoch < r.epoch)
    std::cout << "; " << o.managerName << " owned it until epoch " << r.heldEpoch
              << " and stands down (fenced)";
  std::cout << "\n";
  return 0;
}

} // namespace cfm::driver
