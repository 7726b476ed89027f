// store.h — the manager's SQLite store of model objects (runtime/README.md, "Store"): business
// systems with their elements, VM classes, templates and properties, and the running VM and
// element instances. WAL, 1 KiB pages (a new file), foreign keys on, one transaction per change, a
// schema_version with ordered migrations (schema.cpp), and a `version` on every row, incremented when the row
// changes, so that a later change can replicate configuration between managers.
//
// Concurrency: any number of processes may open one store. Writers take the write lock first
// (BEGIN IMMEDIATE) and wait for each other up to kBusyTimeoutMs; creating the file, switching it
// to WAL and each migration are safe to race (a migration re-reads the version under the lock).
#pragma once

#include "base/result.h"
#include "runtime/model/model.h"
#include "sql/sqlite.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::store {

using sql::Db;
using sql::Stmt;
using sql::Tx;
using sql::Value;

/// The schema this program writes (schema.cpp lists every migration up to it).
int latestSchemaVersion();

/// What starting a VM of one element needs of its system (Store::elementClass).
struct ElementClass {
  std::string systemId, systemName;      ///< the system's id (may be empty) and name
  bool elementFound = false;             ///< false: the system has no such element
  std::optional<model::VMClass> vmClass; ///< the element's VM class (without its properties,
                                         ///< disks and networks); nullopt: the class is missing
};

struct SystemSummary {
  std::string id, name;
  int64_t version = 0;
  size_t elements = 0, vmClasses = 0, templates = 0;
};

/// One procedure file of a system (Store, "Procedure files").
struct ProcedureFile {
  std::string name, text;
  std::string hash;    ///< SHA-256 of the text, 64 hex digits
  int64_t size = 0;    ///< the text's length in bytes
  int64_t version = 0; ///< the row's version
};

struct SaveResult {
  std::string id;
  bool created = false; ///< a new system (else an update of the stored one)
  bool changed = false; ///< something was inserted, updated or deleted
  int64_t version = 0;  ///< the system row's version after the save
};

class Store {
public:
  /// Opens (creating if need be) the store at PATH and migrates it to TARGET (tests migrate to an
  /// older version to test the migrations). A store newer than TARGET is an error. Errors of
  /// both ways of opening are placed in PATH (Error::loc); the kind says whether the file could
  /// not be opened (Io) or is not a usable store (Store).
  /// Only the commands that write (`cfmc ovf import`) open a store this way; see openReadOnly.
  static Result<std::unique_ptr<Store>> open(const std::string &path, int target = latestSchemaVersion());

  /// Opens the existing store at PATH for reading only: never creates it ("no store at `PATH`"),
  /// never migrates it, never writes it (saves fail), and works when the user cannot write the
  /// file or its directory. A writable store is opened read-write with `PRAGMA query_only`, so
  /// that closing it removes the -wal/-shm files as any last connection does; an unwritable one
  /// read-only, using the -wal/-shm of the process writing it, or, when there are none (nobody
  /// has it open), immutable, so that no -wal/-shm is created. Messages name PATH.
  static Result<std::unique_ptr<Store>> openReadOnly(const std::string &path);

  int schemaVersion() const { return schemaVersion_; }

  /// Stores SYS in one transaction: a new system, or an update of the one with its id (or, when
  /// SYS has no id, its name). Rows that did not change keep their version; a failure changes
  /// nothing. Removing an element that still has instances is an error.
  /// PROCS, when given, replaces the system's procedure files (below) in the same transaction
  /// (a configuration taken from another manager); without it they are left as they are.
  Result<SaveResult> saveSystem(const model::BusinessSystem &sys,
                                const std::vector<ProcedureFile> *procs = nullptr);

  /// The system whose name or id is KEY; nullopt when there is none.
  Result<std::optional<model::BusinessSystem>> loadSystem(std::string_view key);
  /// Of system KEY (name or id), element ELEMENT and its VM class, in one query (run_vm's
  /// question; loading the whole system for it was most of a thousand run_vm's reads).
  /// nullopt when there is no such system.
  Result<std::optional<ElementClass>> elementClass(std::string_view key, std::string_view element);
  /// The system row's version, 0 when there is no such system.
  Result<int64_t> systemVersion(std::string_view key);
  Result<std::vector<SystemSummary>> listSystems();
  /// Removes a system and its configuration; fails while it has VM instances.
  Result<void> removeSystem(std::string_view key);

  /// Inserts or updates (by id) a VM instance of system KEY.
  Result<void> saveVmInstance(std::string_view key, const model::VMInstance &vm);
  Result<std::vector<model::VMInstance>> vmInstances(std::string_view key);
  /// The VM instance whose cloud instance id is INSTANCE_ID, with the key (id, else name) of the
  /// system it belongs to; nullopt when no system has it. One indexed lookup, however many VM
  /// instances the store keeps (terminate_vm on one of a thousand).
  Result<std::optional<std::pair<std::string, model::VMInstance>>>
  findVmInstance(std::string_view instanceId);
  /// Inserts or updates (by element and index) an element instance of system KEY.
  Result<void> saveElementInstance(std::string_view key, const model::BusinessSystemElementInstance &inst);
  /// saveVmInstance(KEY, VM) and saveElementInstance(KEY, INST) in one transaction (run_vm
  /// records both at each step of a VM's start).
  Result<void> saveVmAndElementInstance(std::string_view key, const model::VMInstance &vm,
                                        const model::BusinessSystemElementInstance &inst);
  Result<std::vector<model::BusinessSystemElementInstance>> elementInstances(std::string_view key);
  /// Sets STATE on every element instance of system KEY that runs on VM VM_ID (and is not in
  /// that state already; their versions go up), in one statement.
  Result<void> setElementInstanceStateOfVm(std::string_view key, std::string_view vmId,
                                           std::string_view state);

  /// Takes the next free index of element ELEMENT of system KEY (the smallest not in use) and
  /// records a `pending` element instance there, in one write transaction, so that two tasks or
  /// processes adding instances to one store never take the same index (runtime/cloud's run_vm).
  Result<int> claimElementInstance(std::string_view key, std::string_view element);

  /// Sets system KEY's property whose id (`class.key.instance`, Property::id) is ID to VALUE, or
  /// adds one when there is none (below); the property's and the system's
  /// versions go up when the value changes (set_property).
  /// A property that is not there yet is added: `id` is `KEY`, `CLASS.KEY` or
  /// `CLASS.KEY.INSTANCE` (OVF's parts: none empty, no `:`), `type` its OVF type (`string`,
  /// `sint64`, `real64`, `boolean`); an existing property keeps its type.
  Result<void> setProperty(std::string_view key, std::string_view id, std::string_view value,
                           std::string_view type = "string");

  /// The agent credentials of VM instance `instanceId` (docs/agent-protocol.md): the HMAC key
  /// (64 hex) and the agent's broker password, kept from run_vm to terminate_vm. Secrets: never
  /// logged or put in an error message.
  struct AgentCredentials {
    std::string keyHex, password;
  };
  Result<void> saveAgentCredentials(std::string_view instanceId, const AgentCredentials &c);
  Result<std::optional<AgentCredentials>> agentCredentials(std::string_view instanceId);
  Result<void> removeAgentCredentials(std::string_view instanceId);

  // --- Cloud events (API.md "Cloud events"; store/events.cpp). Events are keyed by the system's
  // id as text, not by a reference to its row, so that a manager keeps the events of a system
  // whose configuration has not reached it yet. `cloud_event` is the history, in this manager's
  // order of arrival (`id`); an event is there once per (system, source, seq). `event_outbox`
  // lists the events this manager published that the broker has not acknowledged yet.
  struct CloudEventRow {
    int64_t id = 0; ///< this manager's arrival order (0 before it is stored)
    std::string system, source, name;
    std::string dataJson;                             ///< the `data` member's JSON text (`null` when none)
    int64_t seq = 0, publishedAt = 0, receivedAt = 0; ///< times: Unix milliseconds
  };
  /// Appends an event SOURCE (this manager) publishes for SYSTEM: the next seq of (system,
  /// source), into the history and the outbox in one transaction. Durable against the process's
  /// death once it returns (WAL; an OS crash may lose the last commits: synchronous=NORMAL).
  Result<CloudEventRow> publishEvent(std::string_view system, std::string_view source, std::string_view name,
                                     std::string_view dataJson, int64_t nowMs);
  /// Stores an event received from the federation unless (system, source, seq) is there: true
  /// when it was new (EV.id is then its arrival order), false for a duplicate.
  Result<bool> receiveEvent(CloudEventRow &ev);
  /// receiveEvent for each of EVS in one transaction; FRESH[i] tells whether EVS[i] was new.
  /// Returns how many were.
  Result<size_t> receiveEvents(std::vector<CloudEventRow> &evs, std::vector<bool> &fresh);
  /// The history after arrival order AFTERID, oldest first, at most LIMIT; SYSTEM and NAME
  /// filter when not empty.
  Result<std::vector<CloudEventRow>> eventsAfter(int64_t afterId, std::string_view system,
                                                 std::string_view name, size_t limit);
  /// The latest arrival order (0: no event yet).
  Result<int64_t> lastEventId();
  /// The events of one source for SYSTEM with FROMSEQ <= seq <= TOSEQ, by seq (to answer a
  /// receiver that found a gap).
  Result<std::vector<CloudEventRow>> eventsOfSource(std::string_view system, std::string_view source,
                                                    int64_t fromSeq, int64_t toSeq);
  /// The largest N such that events 1..N of (system, source) are all stored (0: not even the
  /// first), and the highest seq stored; a receiver has a gap when they differ.
  struct SeqState {
    int64_t contiguous = 0, highest = 0;
  };
  Result<SeqState> seqState(std::string_view system, std::string_view source);
  /// The outbox, oldest first, at most LIMIT; its size; an acknowledged event leaves it.
  Result<std::vector<CloudEventRow>> outbox(size_t limit);
  Result<int64_t> outboxSize();
  Result<void> markSent(int64_t eventId);
  Result<void> markSent(const std::vector<int64_t> &eventIds); ///< in one transaction
  /// The highest seq of SOURCE's events of SYSTEM such that it and every earlier one left the
  /// outbox (what receivers can be told to expect: presence heartbeats carry it); 0 if none.
  Result<int64_t> highestSentSeq(std::string_view system, std::string_view source);
  /// The systems SOURCE has events of.
  Result<std::vector<std::string>> eventSystemsOfSource(std::string_view source);

  // --- Shared configuration (issue 15; store/shared_config.cpp, runtime/fed/README.md): which
  // version of each system's configuration this store holds among the managers. A version is
  // (config_version, manager): the manager that made it and its number; the larger wins (the
  // number first, then the manager's name). `row_version` is the business_system row's version
  // when this store last took or made that configuration version: a row version beyond it is a
  // local change not shared yet. The owner is the one manager that acts for the system as its
  // home, at an epoch that a takeover raises; `held_epoch` is the last epoch at which this
  // store's manager owned it (0: never), so a manager that owned it and was taken over knows it
  // (runtime/fed/README.md, "Ownership").
  struct SharedConfig {
    std::string system; ///< the system's id
    int64_t configVersion = 0;
    std::string manager;
    int64_t rowVersion = 0;
    std::string owner;
    int64_t epoch = 0, heldEpoch = 0;
  };
  /// SYSTEM's shared configuration version, if it has one yet.
  Result<std::optional<SharedConfig>> sharedConfig(std::string_view system);
  /// Records C (replacing what SYSTEM had).
  Result<void> setSharedConfig(const SharedConfig &c);
  /// MANAGER takes system KEY (name or id) over: owner MANAGER at the next epoch, held by it;
  /// the system row's version goes up, so that the federation shares the change as a new
  /// configuration version. In one transaction; the record after it.
  Result<SharedConfig> takeOver(std::string_view key, std::string_view manager);

  // --- Procedure files (issue 15; store/procs.cpp): a system's .cfp files, part of its
  // configuration: changing, adding or removing one moves the system row's version as a model
  // change does, so the federation shares them as a new configuration version. A name is a
  // relative path (procedureNameProblem), unique in its system; `hash` is the text's SHA-256.
  static constexpr size_t kMaxProcedureFileBytes = 512 * 1024;  ///< one file's text
  static constexpr size_t kMaxProcedureBytes = 4 * 1024 * 1024; ///< all of a system's files
  static constexpr size_t kMaxProcedureFiles = 256;             ///< files in one system
  static constexpr size_t kMaxProcedureNameBytes = 200;
  /// Why NAME is not a procedure file's name, "" when it is one: 1 to 200 bytes, a relative
  /// path of `/`-separated parts, each of letters, digits, `.`, `_`, `-` (no empty part, no `.`
  /// or `..`), ending in `.cfp`.
  static std::string procedureNameProblem(std::string_view name);
  /// Stores FILES (name, text) as procedure files of system KEY in one transaction, replacing
  /// files of the same names; the system's version goes up when one of them changed. The
  /// system's version after it, and whether something changed. Limits above (Limit errors).
  struct ProcsPut {
    bool changed = false;
    int64_t version = 0;
  };
  Result<ProcsPut> putProcedureFiles(std::string_view key,
                                     const std::vector<std::pair<std::string, std::string>> &files);
  /// Removes procedure file NAME of system KEY (the system's version goes up); false when the
  /// system has no such file.
  Result<bool> removeProcedureFile(std::string_view key, std::string_view name);
  /// System KEY's procedure files by name (with their texts when WITHTEXT). A Store error when
  /// there is no such system.
  Result<std::vector<ProcedureFile>> procedureFiles(std::string_view key, bool withText = true);
  /// System KEY's procedure file NAME, nullopt when it has none of that name.
  Result<std::optional<ProcedureFile>> procedureFile(std::string_view key, std::string_view name);

  // --- Runs (issue 15; store/runs.cpp): the manager daemon's runs, kept across its restarts.
  // A run's output is its lines in order (`n` from 0), at most kMaxRunLines of the last ones.
  struct RunRecord {
    std::string id; ///< r-<seq>
    int64_t seq = 0;
    std::string file, proc;
    std::string state; ///< running, succeeded, failed, cancelled, interrupted
    int exitCode = 0;
    int64_t startedMs = 0, endedMs = 0;
  };
  struct RunLine {
    bool err = false;
    std::string text;
  };
  static constexpr int64_t kMaxRunLines = 100000;
  /// Inserts or updates R.
  Result<void> saveRun(const RunRecord &r);
  /// Appends LINES to run ID's output as lines FIRSTN, FIRSTN+1, ... in one transaction, dropping
  /// lines older than the last kMaxRunLines.
  Result<void> appendRunOutput(std::string_view id, int64_t firstN, const std::vector<RunLine> &lines);
  /// The last LIMIT runs, oldest first.
  Result<std::vector<RunRecord>> lastRuns(size_t limit);
  /// Run ID's lines from FROMN on (at most LIMIT), and the number of its first kept line.
  Result<std::vector<RunLine>> runOutput(std::string_view id, int64_t fromN, size_t limit);
  /// (first kept line number, number after the last line) of run ID's output.
  Result<std::pair<int64_t, int64_t>> runOutputRange(std::string_view id);
  /// Marks every run still `running` as `interrupted` (ended at NOWMS): what a daemon that
  /// starts finds of the runs its previous process did not end. Returns how many.
  Result<int64_t> interruptRunningRuns(int64_t nowMs);

  /// The connection, for tests and later parts (replication) that need plain SQL.
  Db &db() { return *db_; }

private:
  static Result<std::unique_ptr<Store>> openIn(const std::string &path, int target);
  static Result<std::unique_ptr<Store>> openReadOnlyIn(const std::string &path);
  Store() = default;
  Result<std::optional<int64_t>> findSystem(std::string_view key);
  Result<int64_t> requireSystem(std::string_view key);
  // The two saves' work inside the caller's transaction.
  Result<void> writeVmInstance(int64_t sysId, const model::VMInstance &vm);
  Result<void> writeElementInstance(int64_t sysId, std::string_view key,
                                    const model::BusinessSystemElementInstance &inst);
  std::unique_ptr<Db> db_;
  int schemaVersion_ = 0;
};

/// Applies the migrations after the database's version up to TARGET (schema.cpp), each under
/// the write lock with the version read again there, so that processes racing to create or
/// upgrade one store apply each migration once.
Result<int> migrate(Db &db, int target);

/// The schema version of the store DB (no lock taken, nothing written); an error when DB is not
/// a CFM store.
Result<int> schemaVersionOf(Db &db);

} // namespace cfm::store
