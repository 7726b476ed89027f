// config.h — a manager's configuration file (TOML): who the manager is, which cloud it drives
// (EC2 endpoint, region, credentials), where its store is, and how the VMClasses of OVF
// descriptors map to that cloud's image ids and instance types — clouds differ (the paper's open
// problem of federating unlike clouds), so one OVF runs on cfm-cloud, Eucalyptus or AWS through
// this mapping. docs/manager-config.md is the reference of the format; an example:
//
//   [manager]
//   name = "a"
//   store = "a/store.db"                 # relative paths are relative to this file
//
//   [cloud]
//   name = "a"
//   endpoint = "http://127.0.0.1:8601/"
//   region = "local-a"
//   credentials = "aws/credentials"      # the AWS shared-credentials format
//   profile = "cfm-a"                    # default: "default"
//
//   [mapping]
//   default_image = "cfm-default"        # for VMClass images not in [mapping.images]
//   images = { "debian-12" = "ami-0abc" }
//   instance_types = [                   # the smallest that fits a VMClass's CPUs and memory
//     { name = "c1.small", vcpus = 1, memory_mib = 1024 },
//     { name = "c1.large", vcpus = 4, memory_mib = 8192 } ]
//   [mapping.vm_classes.db]              # one VMClass by name: fixed image and/or type
//   instance_type = "c1.large"
//
//   [broker]                             # optional: the MQTT broker of the VMs' agents
//   url = "tcp://127.0.0.1:18830"
//   username = "manager-a"
//   password_file = "a/broker-password"  # mode 0600
//
//   [federation]                         # optional, with [broker]: which systems to share
//   follow = ["web3", "hadoop"]          # names or ids; default: every system
//
//   [[standing]]                         # optional: runs cfmd starts at start-up (file, or
//                                        # system + file: a stored procedure file)
//   file = "procs/serve_scale_out.cfp"   # relative to this file; its imports beside it
//   proc = "main"                        # default "main"
//   engine = "jit"                       # or "interp"; default "jit"
//   args = { sys = "web3" }              # --arg NAME=VALUE; strings, integers, booleans
#pragma once

#include "base/result.h"
#include "net/sigv4.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::rt::cloud {

struct InstanceType {
  std::string name;
  int vcpus = 0;
  int64_t memoryMib = 0;
};

struct VMClassMapping {
  std::string image;        // "" : from images/default_image
  std::string instanceType; // "" : the smallest that fits
};

/// An access key pair: the signer's own type (net/sigv4.h), so the driver signs with what
/// readCredentials gives.
using Credentials = net::Credentials;

/// The MQTT broker through which the manager reaches its VMs' agents (docs/agent-protocol.md).
struct BrokerConfig {
  std::string url, username, passwordFile;
};

/// A procedure cfmd starts when it starts (a peer that serves scale-out requests, a watcher of
/// cloud events): [[standing]].
struct StandingRun {
  std::string file;   ///< absolute; with `system`, the name of one of its stored procedure files
  std::string system; ///< "" (a file on this machine's disk) or a system of the store
  std::string proc = "main";
  std::string engine = "jit";
  std::map<std::string, std::string> args; ///< as `--arg NAME=VALUE` gives them
};

struct ManagerConfig {
  std::string path; // the file read (relative paths below are resolved against its folder)
  std::string managerName, storePath;
  std::string socketPath; // cfmd's control socket; "" when not given (cfmd: <store dir>/cfmd.sock)
  std::string cloudName, endpoint, region;
  std::string credentialsPath, profile = "default";
  std::string defaultImage;
  std::map<std::string, std::string> images;
  std::vector<InstanceType> instanceTypes; // as written; fitting picks the smallest
  std::map<std::string, VMClassMapping> vmClasses;
  std::optional<BrokerConfig> broker; // none: run_vm starts no agent, agent calls fail
  /// [federation] follow: the systems (names or ids) whose events and configuration this manager
  /// shares with the others through the broker; empty: every system.
  std::vector<std::string> follow;
  /// [[standing]]: what cfmd runs at its start, in order.
  std::vector<StandingRun> standing;
};

/// Reads and checks a manager configuration. Errors name the file, the line and the key.
Result<ManagerConfig> readManagerConfig(const std::string &path);
/// The same from text (for tests; `path` names it in messages and anchors relative paths).
Result<ManagerConfig> parseManagerConfig(std::string_view text, const std::string &path);

/// The broker password in `b.passwordFile` (at most 4 KiB), without its trailing newline or
/// blanks; `cannot read the broker password file PATH: why` otherwise.
Result<std::string> readBrokerPassword(const BrokerConfig &b);

/// Reads the access key pair of `profile` from an AWS shared-credentials file
/// (`[profile]` sections with `aws_access_key_id`, `aws_secret_access_key`,
/// optional `aws_session_token`).
Result<Credentials> readCredentials(const std::string &path, const std::string &profile);

/// What a VMClass runs as on this cloud.
struct Placement {
  std::string imageId, instanceType;
};
/// Maps a VMClass (its name, image, CPUs and memory) to this cloud's image id and instance
/// type; the error says what is missing and where to add it.
Result<Placement> placeVMClass(const ManagerConfig &c, std::string_view vmClass, std::string_view image,
                               int cpus, int64_t memoryMib);

} // namespace cfm::rt::cloud
