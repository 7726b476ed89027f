// ovf_cmd.cpp — `cfmc ovf`: validate a descriptor, import it into a store, show a stored system,
// export one as OVF. Errors from the reader already say `FILE:LINE:COL: error: ...` and are
// printed as they are; other failures print `cfmc: error: MESSAGE`.
#include "driver/ovf_cmd.h"

#include "ovf/reader.h"
#include "ovf/to_model.h"
#include "ovf/writer.h"
#include "runtime/store/store.h"

#include <cstdio>
#include <fstream>
#include <iostream>

namespace cfm::driver {

namespace {

const char *const kOvfHelp = R"(usage: cfmc ovf <command> [options]

Business systems described in OVF (with CFM's extension, ovf/README.md) and the store they are
imported into.

commands:
  validate FILE...             read each descriptor (and its template files) and report errors
  import FILE --state DB       import a descriptor into the store DB (an update if already there)
  show [NAME] --state DB       print a stored system (by name or id), or list the systems
  export NAME --state DB [-o OUT]
                               write a stored system as an OVF descriptor (stdout by default)

Exit status: 0 on success, 1 on failure (an invalid descriptor, a store error, an unknown
system), 2 on bad usage. Run `cfmc ovf <command> --help` for one command.
)";

const char *const kValidateHelp = R"(usage: cfmc ovf validate FILE...

Reads each OVF descriptor (OVF 0.9, 1.x, 2.x) and the template files it references, and maps it
to model objects without storing anything. Prints `FILE: ok (...)` per valid file on stdout and
`FILE:LINE:COL: error: MESSAGE` for the first problem of each invalid one on stderr.
Exit status: 0 when every file is valid, 1 otherwise, 2 on bad usage.
)";

const char *const kImportHelp = R"(usage: cfmc ovf import FILE --state DB

Imports the descriptor FILE into the SQLite store DB (created when missing). A system already
stored (same id, or same name when the descriptor gives no id) is updated in one transaction;
a failed import changes nothing. Exit status: 0 ok, 1 failure, 2 bad usage.
)";

const char *const kShowHelp = R"(usage: cfmc ovf show [NAME] --state DB

Prints the stored business system NAME (a name or an id): its elements, VM classes, templates
and properties. Without NAME, lists the stored systems. Exit status: 0 ok, 1 failure (no such
system), 2 bad usage.
)";

const char *const kExportHelp = R"(usage: cfmc ovf export NAME --state DB [-o OUT]

Writes the stored business system NAME as an OVF 1.x descriptor with CFM's extension, to OUT or
standard output. Importing it again gives the same system. Exit status: 0 ok, 1 failure, 2 bad
usage.
)";

int usage(const std::string &msg, const char *help) {
  std::cerr << "cfmc: " << msg << "\n\n" << help;
  return 2;
}

int fail(const std::string &msg) {
  std::cerr << "cfmc: error: " << msg << '\n';
  return 1;
}

struct Args {
  std::vector<std::string> positional;
  std::string state, out;
  bool help = false;
};

/// Parses `--state DB`, `--state=DB`, `-o OUT` (when OUT_OK), `--help` and positional arguments.
bool parseArgs(const std::vector<std::string> &in, Args &a, bool outOk, std::string &error) {
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string &s = in[i];
    if (s == "-h" || s == "--help") {
      a.help = true;
    } else if (s == "--state" || (outOk && (s == "-o" || s == "--output"))) {
      if (i + 1 >= in.size()) {
        error = "`" + s + "` needs a value";
        return false;
      }
      (s == "--state" ? a.state : a.out) = in[++i];
    } else if (s.rfind("--state=", 0) == 0) {
      a.state = s.substr(8);
    } else if (outOk && s.rfind("--output=", 0) == 0) {
      a.out = s.substr(9);
    } else if (s == "--") {
      a.positional.insert(a.positional.end(), in.begin() + static_cast<long>(i) + 1, in.end());
      break;
    } else if (s.size() > 1 && s[0] == '-') {
      error = "unknown option `" + s + "`";
      return false;
    } else {
      a.positional.push_back(s);
    }
  }
  return true;
}

int validate(const std::vector<std::string> &argv) {
  Args a;
  std::string error;
  if (!parseArgs(argv, a, false, error)) return usage(error, kValidateHelp);
  if (a.help) {
    std::cout << kValidateHelp;
    return 0;
  }
  if (!a.state.empty()) return usage("`validate` takes no `--state`", kValidateHelp);
  if (a.positional.empty()) return usage("no input files", kValidateHelp);
  int status = 0;
  for (const std::string &f : a.positional) {
    auto env = ovf::readFile(f);
    if (!env) {
      std::cerr << env.error().message << '\n';
      status = 1;
      continue;
    }
    auto sys = ovf::importFile(f); // also reads the template files
    if (!sys) {
      std::cerr << sys.error().message << '\n';
      status = 1;
      continue;
    }
    std::cout << f << ": ok (OVF " << env->version << ", system `" << sys->name << "`, "
              << sys->vmClasses.size() << " virtual system(s), " << sys->elements.size() << " element(s), "
              << sys->templates.size() << " template(s))\n";
  }
  return status;
}

Result<std::unique_ptr<store::Store>> openStore(const std::string &path) {
  auto st = store::Store::open(path);
  if (!st) return Error{"store `" + path + "`: " + st.error().message};
  return st;
}

int import(const std::vector<std::string> &argv) {
  Args a;
  std::string error;
  if (!parseArgs(argv, a, false, error)) return usage(error, kImportHelp);
  if (a.help) {
    std::cout << kImportHelp;
    return 0;
  }
  if (a.positional.size() != 1) return usage("`import` takes one FILE", kImportHelp);
  if (a.state.empty()) return usage("`import` needs `--state DB`", kImportHelp);
  auto sys = ovf::importFile(a.positional[0]);
  if (!sys) {
    std::cerr << sys.error().message << '\n';
    return 1;
  }
  auto st = openStore(a.state);
  if (!st) return fail(st.error().message);
  auto saved = (*st)->saveSystem(*sys);
  if (!saved)
    return fail("import of `" + a.positional[0] +
                "` failed (the store is unchanged): " + saved.error().message);
  std::cout << (saved->created   ? "imported"
                : saved->changed ? "updated"
                                 : "unchanged")
            << " system `" << sys->name << "` (id " << saved->id << ", version " << saved->version << ")\n";
  return 0;
}

int show(const std::vector<std::string> &argv) {
  Args a;
  std::string error;
  if (!parseArgs(argv, a, false, error)) return usage(error, kShowHelp);
  if (a.help) {
    std::cout << kShowHelp;
    return 0;
  }
  if (a.positional.size() > 1) return usage("`show` takes at most one NAME", kShowHelp);
  if (a.state.empty()) return usage("`show` needs `--state DB`", kShowHelp);
  auto st = openStore(a.state);
  if (!st) return fail(st.error().message);
  if (a.positional.empty()) {
    auto list = (*st)->listSystems();
    if (!list) return fail(list.error().message);
    for (const store::SystemSummary &s : *list)
      std::cout << s.name << "  id " << s.id << "  version " << s.version << "  " << s.elements
                << " element(s), " << s.vmClasses << " vm class(es), " << s.templates << " template(s)\n";
    return 0;
  }
  auto sys = (*st)->loadSystem(a.positional[0]);
  if (!sys) return fail(sys.error().message);
  if (!*sys) return fail("no business system `" + a.positional[0] + "` in `" + a.state + "`");
  auto version = (*st)->systemVersion(a.positional[0]);
  std::cout << model::describe(**sys);
  if (version) std::cout << "  (store version " << *version << ")\n";
  return 0;
}

int exportCmd(const std::vector<std::string> &argv) {
  Args a;
  std::string error;
  if (!parseArgs(argv, a, true, error)) return usage(error, kExportHelp);
  if (a.help) {
    std::cout << kExportHelp;
    return 0;
  }
  if (a.positional.size() != 1) return usage("`export` takes one NAME", kExportHelp);
  if (a.state.empty()) return usage("`export` needs `--state DB`", kExportHelp);
  auto st = openStore(a.state);
  if (!st) return fail(st.error().message);
  auto sys = (*st)->loadSystem(a.positional[0]);
  if (!sys) return fail(sys.error().message);
  if (!*sys) return fail("no business system `" + a.positional[0] + "` in `" + a.state + "`");
  auto text = ovf::write(**sys);
  if (!text) return fail("cannot export `" + a.positional[0] + "`: " + text.error().message);
  if (a.out.empty()) {
    std::cout << *text;
    return 0;
  }
  std::ofstream out(a.out, std::ios::binary);
  out << *text;
  out.close();
  if (!out) return fail("cannot write `" + a.out + "`");
  return 0;
}

struct Sub {
  const char *name;
  int (*run)(const std::vector<std::string> &);
};
const Sub kSubs[] = {{"validate", validate}, {"import", import}, {"show", show}, {"export", exportCmd}};

} // namespace

int cmdOvf(const std::vector<std::string> &args) {
  if (args.empty()) return usage("`ovf` needs a command", kOvfHelp);
  const std::string &cmd = args[0];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::cout << kOvfHelp;
    return 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const Sub &s : kSubs)
    if (cmd == s.name) return s.run(rest);
  return usage("unknown ovf command `" + cmd + "`", kOvfHelp);
}

} // namespace cfm::driver
