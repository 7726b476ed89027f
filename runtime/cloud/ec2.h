// ec2.h — the EC2 driver's client: one EC2 Query action (API version 2016-11-15) against any
// EC2-compatible endpoint (AWS, Eucalyptus, cfm-cloud), from a task of the scheduler.
//
// A call encodes the parameters (net/query.h), signs the request with SigV4 (net/sigv4.h), hands
// it to the process's one HttpClient thread (net/http.h) and suspends the calling task on a
// scheduler Completion until the reply is there, so no thread blocks per request and a thousand
// calls can be in flight from one procedure. Replies are read with net/ec2_xml.h.
//
// Retries: RequestLimitExceeded (and the other throttling codes), any 5xx reply and connection
// failures the HTTP client calls retryable are retried with exponential backoff and full jitter
// (the task sleeps through sched::sleep), bounded by RetryPolicy's attempts and total time; any
// other 4xx is returned at once. RunInstances always carries a ClientToken, the same on every
// retry, so a retry never starts a second VM. The Describe calls follow NextToken to the end.
// Waiters poll with backoff until an instance is running or terminated, or a volume is attached
// or available; a poll that stays throttled or unanswered through its retries is polled again
// until the waiter's deadline. The instance waiters of one client share one poll loop (one
// DescribeInstances for up to 200 waited instances, run by one of the waiting tasks).
//
// Errors are values (CallError), which the manager (manager.h) raises as runtime errors:
//   kind "cloud", code = the EC2 code, message "<Code>: <EC2 message>" — the cloud refused;
//   kind "cloud", code "Unavailable" — no reply after the retries (connection refused or reset,
//     timeouts), or the endpoint cannot be reached at all (a malformed URL);
//   kind "cloud", code "InvalidReply" — a reply that is not the action's XML;
//   kind "timeout", code "" — a waiter or a call ran past its deadline;
//   `pending` — the task was cancelled while it waited (the runtime error is already pending).
#pragma once

#include "net/ec2_xml.h"
#include "net/http.h"
#include "net/query.h"
#include "net/sigv4.h"
#include "runtime/runtime.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::rt::cloud {

/// The EC2 Query API version every request names.
inline constexpr std::string_view kEc2ApiVersion = "2016-11-15";
/// The code of a call that got no reply after its retries (documented in runtime/README.md).
inline constexpr std::string_view kUnavailableCode = "Unavailable";
/// The code of a reply that is not the XML the action returns.
inline constexpr std::string_view kInvalidReplyCode = "InvalidReply";

/// Why a call failed (see the file comment).
struct CallError {
  ErrKind kind = ErrKind::Cloud;
  std::string code;
  std::string message;
  bool pending = false; // the runtime error (the task's cancellation) is already raised
};

/// A call's value or its error.
template <typename T> struct CallResult {
  std::optional<CallError> error;
  T value{};
  bool ok() const { return !error; }
  explicit operator bool() const { return ok(); }
  static CallResult fail(CallError e) {
    CallResult r;
    r.error = std::move(e);
    return r;
  }
};

/// When a call is retried and for how long.
struct RetryPolicy {
  int maxAttempts = 10;             // the first try included
  int maxThrottledAttempts = 40;    // the same while the cloud answers RequestLimitExceeded
  int64_t baseDelayMs = 50;         // the first backoff's cap; doubled per retry
  int64_t maxDelayMs = 5000;        // no backoff is capped above this
  int64_t maxTotalMs = 120000;      // no retry starts a sleep that would end past this since the call began
  int64_t requestTimeoutMs = 30000; // one HTTP exchange
};

/// How waiters poll.
struct WaitPolicy {
  int64_t firstDelayMs = 100;
  int64_t maxDelayMs = 2000;
};

/// The whole call, retries included, must end by this time (steady clock); max: no deadline.
using Deadline = std::chrono::steady_clock::time_point;
inline Deadline noDeadline() { return Deadline::max(); }
/// A deadline `ms` from now (ms < 0: none).
Deadline deadlineIn(int64_t ms);

/// What a client has counted since it was made (tests, benchmarks).
struct ClientStats {
  uint64_t calls = 0, attempts = 0, retries = 0, throttled = 0;
};

class Ec2Client {
public:
  struct Options {
    std::string endpoint; // http(s)://host[:port]/[path]
    std::string region;
    net::Credentials credentials;
    RetryPolicy retry;
    WaitPolicy wait;
  };

  /// A client on `http` (shared; it outlives every call). Fails on an endpoint that is not an
  /// http:// or https:// URL with a host.
  static Result<std::unique_ptr<Ec2Client>> make(Options options, std::shared_ptr<net::HttpClient> http);

  /// The process's one HttpClient, started on first use and shared by every client after.
  static Result<std::shared_ptr<net::HttpClient>> sharedHttp();

  /// One action: its reply body, after retries. Must run on a task of the scheduler.
  CallResult<std::string> call(std::string_view action, net::Params params, Deadline deadline = noDeadline());

  // ---- the actions the manager needs (each reads its reply) ----

  struct RunRequest {
    // userData: base64, as EC2 wants it; clientToken "": made here
    std::string imageId, instanceType, availabilityZone, userData, clientToken;
    std::vector<net::Ec2TagSpecification> tags;
  };
  /// RunInstances of exactly one instance.
  CallResult<net::ec2::Instance> runInstance(const RunRequest &r, Deadline deadline = noDeadline());
  /// DescribeInstances of `ids` (all when empty) with `filters`, every page.
  CallResult<std::vector<net::ec2::Instance>>
  describeInstances(const std::vector<std::string> &ids, const std::vector<net::Ec2Filter> &filters = {},
                    Deadline deadline = noDeadline());
  CallResult<std::vector<net::ec2::StateChange>> terminateInstances(const std::vector<std::string> &ids,
                                                                    Deadline deadline = noDeadline());
  CallResult<net::ec2::Volume> createVolume(int64_t sizeGiB, std::string_view zone,
                                            Deadline deadline = noDeadline());
  CallResult<std::vector<net::ec2::Volume>> describeVolumes(const std::vector<std::string> &ids,
                                                            Deadline deadline = noDeadline());
  CallResult<net::ec2::VolumeAttachment> attachVolume(std::string_view volumeId, std::string_view instanceId,
                                                      std::string_view device,
                                                      Deadline deadline = noDeadline());
  CallResult<net::ec2::Address> allocateAddress(Deadline deadline = noDeadline());
  CallResult<std::vector<net::ec2::Address>> describeAddresses(const std::vector<std::string> &publicIps,
                                                               Deadline deadline = noDeadline());
  /// AssociateAddress by public IP (`allocationId` empty) or allocation id; the association id.
  CallResult<std::string> associateAddress(std::string_view instanceId, std::string_view publicIp,
                                           std::string_view allocationId, Deadline deadline = noDeadline());

  // ---- waiters: poll with backoff until the state is reached, a terminal other state is
  // reached (an error naming it), or the deadline passes (kind "timeout") ----

  CallResult<net::ec2::Instance> waitInstanceRunning(std::string_view id, Deadline deadline);
  CallResult<net::ec2::Instance> waitInstanceTerminated(std::string_view id, Deadline deadline);
  CallResult<net::ec2::Volume> waitVolumeAttached(std::string_view volumeId, std::string_view instanceId,
                                                  Deadline deadline);
  CallResult<net::ec2::Volume> waitVolumeAvailable(std::string_view volumeId, Deadline deadline);

  /// A fresh ClientToken (random, 32 hex digits).
  static std::string newClientToken();

  Ec2Client(const Ec2Client &) = delete;
  Ec2Client &operator=(const Ec2Client &) = delete;
  ~Ec2Client();
  struct InstanceWaiters; // the shared poll loop of waitInstance* (ec2.cpp)

  ClientStats stats() const { return stats_; }
  const Options &options() const { return options_; }

private:
  Ec2Client(Options options, std::shared_ptr<net::HttpClient> http, std::string host, std::string path);
  /// One exchange: the reply, or why there was none (ok false).
  bool exchange(const std::string &body, int64_t timeoutMs, net::HttpClient::Outcome &out, CallError &err);
  int64_t backoffMs(int retry);
  CallResult<net::ec2::Instance> waitInstance(std::string_view id, std::string_view want, Deadline deadline);
  enum class PollEnd { Polled, Deadline, Cancelled };
  /// One poll of every undecided instance waiter (ec2.cpp, "The instance waiters").
  PollEnd pollInstances(Deadline deadline);
  /// Offers the poll loop to the first undecided waiter.
  void offerLead();
  CallResult<net::ec2::Volume> waitVolume(std::string_view volumeId, std::string_view instanceId,
                                          std::string_view want, Deadline deadline);

  Options options_;
  std::shared_ptr<net::HttpClient> http_;
  std::string host_, path_;
  uint64_t rng_;
  ClientStats stats_;
  std::unique_ptr<InstanceWaiters> waiters_;
};

} // namespace cfm::rt::cloud
