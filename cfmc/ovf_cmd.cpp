// ovf_cmd.cpp — `cfmc ovf`: validate a descriptor, import it into a store, show a stored system,
// export one as OVF. Errors placed at a line of a descriptor print `FILE:LINE:COL: error: ...`
// (Error::describe); other failures print `cfmc: error: MESSAGE`.
#include "cfmc/ovf_cmd.h"

#include "base/atomic_file.h"
#include "base/paths.h"
#include "cfmc/context.h"

#include "ovf/reader.h"
#include "ovf/to_model.h"
#include "ovf/writer.h"
#include "runtime/cloud/config.h"
#include "runtime/store/store.h"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <iostream>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace cfm::driver {

namespace {

const char *const kOvfHelp = R"(usage: cfmc ovf <command> [options]

Business systems described in OVF (with CFM's extension, ovf/README.md) and the store they are
imported into.

commands:
  validate FILE...             read each descriptor (and its template files) and report errors
  import FILE --state DB       import a descriptor into the store DB (an update if already there)
  show [NAME] --state DB       print a stored system (by name or id), or list the systems
  export NAME --state DB [-o OUT] [--force]
                               write a stored system as an OVF descriptor (stdout by default)

Only `import` creates a store; `show` and `export` read it without writing (also a store the
user cannot write). Instead of `--state DB`, `--manager NAME` (or $CFM_MANAGER; found in the
context file of `cfmc local up`, or `--context FILE`) or `--config FILE` (a manager
configuration) names a manager whose store is used.

Exit status: 0 on success, 1 on failure (an invalid descriptor, a store error, an unknown
system), 2 on bad usage. Run `cfmc ovf <command> --help` for one command.
)";

const char *const kValidateHelp = R"(usage: cfmc ovf validate FILE...

Reads each OVF descriptor (OVF 0.9, 1.x, 2.x) and the template files it references, and maps it
to model objects without storing anything. Prints `FILE: ok (...)` per valid file on stdout and
`FILE:LINE:COL: error: MESSAGE` for the first problem of each invalid one on stderr.
Exit status: 0 when every file is valid, 1 otherwise, 2 on bad usage.
)";

const char *const kImportHelp = R"(usage: cfmc ovf import FILE --state DB | --manager NAME | --config FILE

Imports the descriptor FILE into the SQLite store DB (created when missing). A system already
stored (same id, or same name when the descriptor gives no id) is updated in one transaction;
a failed import changes nothing. Template files are read from FILE's directory only (a link
leading out of it is refused). Imports running at the same time wait for each other.
Exit status: 0 ok, 1 failure, 2 bad usage.
)";

const char *const kShowHelp = R"(usage: cfmc ovf show [NAME] --state DB

Prints the stored business system NAME (a name or an id): its elements, VM classes, templates
and properties. Without NAME, lists the stored systems. DB must exist; it is only read.
Exit status: 0 ok, 1 failure (no such store or system), 2 bad usage.
)";

const char *const kExportHelp = R"(usage: cfmc ovf export NAME --state DB [-o OUT] [--force]

Writes the stored business system NAME as an OVF 1.x descriptor with CFM's extension, to OUT or
standard output. Importing it again gives the same system. DB must exist; it is only read.
OUT is written whole or not at all (a new file renamed over it). It is never the store (nor its
-wal, -shm or -journal file), and an existing OUT must be an OVF descriptor (or empty): any
other file is replaced only with `--force`.
Exit status: 0 ok, 1 failure, 2 bad usage.
)";

int usage(const std::string &msg, const char *help) {
  std::cerr << "cfmc: " << msg << "\n\n" << help;
  return 2;
}

int fail(const std::string &msg) {
  std::cerr << "cfmc: error: " << msg << '\n';
  return 1;
}

/// An error of reading a descriptor: at its place when it has a line, else as `fail` does.
int failAt(const Error &e) {
  if (e.loc && e.loc->line > 0) {
    std::cerr << e.describe() << '\n';
    return 1;
  }
  return fail(e.message);
}

struct Args {
  std::vector<std::string> positional;
  std::string state, out;
  ManagerChoice manager; // --manager NAME, --config FILE, --context FILE: the manager's store
  bool help = false, force = false;
};

/// Sets a.state from the manager's configuration when --manager, --config or $CFM_MANAGER names
/// one (a usage error with --state as well); false with `error` on failure (`usageError`: bad
/// usage rather than a failure).
bool resolveStore(Args &a, std::string &error, bool &usageError) {
  usageError = false;
  if (!a.manager.config.empty() && !a.manager.manager.empty()) {
    usageError = true;
    error = "give `--manager NAME` or `--config FILE`, not both";
    return false;
  }
  if (!a.state.empty() && (!a.manager.config.empty() || !a.manager.manager.empty())) {
    usageError = true;
    error = "`--state` and the manager's store conflict: give one";
    return false;
  }
  if (!a.state.empty()) return true;
  auto path = managerConfigPath(a.manager);
  if (!path) {
    error = path.error().describe();
    return false;
  }
  if (path->empty()) return true;
  auto config = rt::cloud::readManagerConfig(*path);
  if (!config) {
    error = config.error().describe();
    return false;
  }
  a.state = config->storePath;
  return true;
}

/// Parses `--state DB`, `--state=DB`, `-o OUT` and `--force` (when OUT_OK), `--help` and
/// positional arguments.
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
    } else if (outOk && s == "--force") {
      a.force = true;
    } else if (s == "--manager" || s == "--config" || s == "--context") {
      if (i + 1 >= in.size() || in[i + 1].empty()) {
        error = "`" + s + "` needs a value";
        return false;
      }
      (s == "--manager"  ? a.manager.manager
       : s == "--config" ? a.manager.config
                         : a.manager.context) = in[++i];
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
      status = failAt(env.error());
      continue;
    }
    auto sys = ovf::importFile(f); // also reads the template files
    if (!sys) {
      status = failAt(sys.error());
      continue;
    }
    std::cout << f << ": ok (OVF " << env->version << ", system `" << sys->name << "`, "
              << sys->vmClasses.size() << " virtual system(s), " << sys->elements.size() << " element(s), "
              << sys->templates.size() << " template(s))\n";
  }
  return status;
}

/// The store for `import`, created when missing.
Result<std::unique_ptr<store::Store>> openStoreForWriting(const std::string &path) {
  auto st = store::Store::open(path);
  if (!st) return st.error().framed("store `" + path + "`: ");
  return st;
}

/// The store for `show` and `export`: it must exist, and it is only read.
Result<std::unique_ptr<store::Store>> openStoreForReading(const std::string &path) {
  auto st = store::Store::openReadOnly(path);
  if (!st && st.error().message.rfind("no store at ", 0) == 0) {
    Error e = st.error();
    e.message += " (`cfmc ovf import FILE --state " + path + "` creates one)";
    return e;
  }
  return st;
}

/// True when TEXT (the start of a file) is an OVF descriptor: after an optional byte order mark,
/// XML declaration, comments and white space, its first element is an `Envelope` that declares
/// an OVF envelope namespace. An empty file counts as one (there is nothing to lose).
bool looksLikeOvf(std::string_view text) {
  size_t i = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  for (;;) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    if (i == text.size()) return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (text.substr(i, 2) == "<?" || text.substr(i, 4) == "<!--") {
      std::string_view end = text[i + 1] == '?' ? "?>" : "-->";
      size_t at = text.find(end, i + 2);
      if (at == std::string_view::npos) return false;
      i = at + end.size();
      continue;
    }
    break;
  }
  if (text[i] != '<') return false;
  size_t close = text.find('>', i);
  if (close == std::string_view::npos) return false;
  std::string_view tag = text.substr(i + 1, close - i - 1);
  std::string_view name = tag.substr(0, tag.find_first_of(" \t\r\n/"));
  if (size_t colon = name.find(':'); colon != std::string_view::npos) name = name.substr(colon + 1);
  return name == "Envelope" &&
         (tag.find("http://schemas.dmtf.org/ovf/envelope/") != std::string_view::npos ||
          tag.find("http://www.vmware.com/schema/ovf/1/envelope") != std::string_view::npos);
}

/// Writes an export to OUT: never over the store DB (or its -wal, -shm, -journal), over an
/// existing file only when it is an OVF descriptor (or FORCE), and atomically.
Result<void> writeExport(const std::string &out, const std::string &text, const std::string &db, bool force) {
  std::string where = "cannot export to `" + out + "`: ";
  for (const char *suffix : {"", "-wal", "-shm", "-journal"})
    if (base::sameFile(out, db + suffix))
      return Error{ErrorKind::Usage,
                   where +
                       (*suffix ? "it is the `" + std::string(suffix) + "` file of the store"
                                : std::string("it is the store")) +
                       " `" + db + "` (an export is a new OVF descriptor; give another `-o`)"};
  struct stat st;
  if (::stat(out.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode))
      return Error{ErrorKind::Usage,
                   where + "it is not a regular file (leave out `-o` to write to standard output)"};
    if (!force) {
      // The start of the file is enough to tell an OVF descriptor (a store starts `SQLite format 3`).
      base::UniqueFd fd(::open(out.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
      if (!fd) return Error{ErrorKind::Io, where + base::systemError(errno)};
      std::string head(64 * 1024, '\0');
      ssize_t n = ::read(fd.get(), head.data(), head.size());
      if (n < 0) return Error{ErrorKind::Io, where + base::systemError(errno)};
      head.resize(static_cast<size_t>(n));
      if (!looksLikeOvf(head))
        return Error{ErrorKind::Usage,
                     where + "it exists and is not an OVF descriptor (give `--force` to replace it)"};
    }
  }
  auto r = base::replaceFileAtomically(out, text);
  if (!r) return r.error().framed(where);
  return success();
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
  bool usageError = false;
  if (!resolveStore(a, error, usageError)) return usageError ? usage(error, kImportHelp) : fail(error);
  if (a.state.empty()) return usage("`import` needs `--state DB` or `--manager NAME`", kImportHelp);
  auto sys = ovf::importFile(a.positional[0]);
  if (!sys) return failAt(sys.error());
  auto st = openStoreForWriting(a.state);
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
  bool usageError = false;
  if (!resolveStore(a, error, usageError)) return usageError ? usage(error, kShowHelp) : fail(error);
  if (a.state.empty()) return usage("`show` needs `--state DB` or `--manager NAME`", kShowHelp);
  auto st = openStoreForReading(a.state);
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
  bool usageError = false;
  if (!resolveStore(a, error, usageError)) return usageError ? usage(error, kExportHelp) : fail(error);
  if (a.state.empty()) return usage("`export` needs `--state DB` or `--manager NAME`", kExportHelp);
  auto st = openStoreForReading(a.state);
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
  auto written = writeExport(a.out, *text, a.state, a.force);
  if (!written) return fail(written.error().message);
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
