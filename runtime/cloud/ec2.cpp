// ec2.cpp — the EC2 driver's client (ec2.h): signing, sending on the shared HttpClient with the
// calling task suspended on a scheduler Completion, retries with backoff and full jitter,
// pagination, and the waiters.
#include "runtime/cloud/ec2.h"

#include "runtime/sched/scheduler.h"

#include <algorithm>
#include <ctime>
#include <mutex>
#include <random>
#include <unordered_map>

namespace cfm::rt::cloud {

namespace {

using Clock = std::chrono::steady_clock;
using net::Param;
using net::Params;

int64_t msBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

/// The codes EC2 and compatible clouds throttle or fail transiently with (retried like a 5xx).
bool retryableCode(std::string_view code) {
  return code == "RequestLimitExceeded" || code == "Throttling" || code == "ThrottlingException" ||
         code == "RequestThrottled" || code == "EC2ThrottledException" || code == "ServiceUnavailable" ||
         code == "Unavailable" || code == "InternalError";
}

/// A cloud out of capacity (InsufficientInstanceCapacity, a 500 as EC2 sends it, and its kin):
/// not retried, though a 5xx. Capacity does not come back within a retry's backoff, and the
/// procedure wants to know at once — running the VM in a peer cloud is what CFM is for.
bool capacityCode(std::string_view code) { return code.starts_with("Insufficient"); }

CallError cloudError(std::string code, std::string_view message) {
  std::string m = code + ": " + std::string(message);
  return CallError{ErrKind::Cloud, std::move(code), std::move(m), false};
}

CallError invalidReply(std::string_view action, const Error &e) {
  return cloudError(std::string(kInvalidReplyCode),
                    "the reply to " + std::string(action) + " is not EC2's: " + e.message);
}

CallError pendingError() { return CallError{ErrKind::Cloud, "", "", true}; }

/// Reads a reply with `read`; the cloud's error document becomes a "cloud" error.
template <typename T, typename Read>
CallResult<net::ec2::Reply<T>> readReply(std::string_view action, const std::string &body, Read read) {
  Result<net::ec2::Reply<T>> r = read(body);
  if (!r) return CallResult<net::ec2::Reply<T>>::fail(invalidReply(action, r.error()));
  if (r->error) return CallResult<net::ec2::Reply<T>>::fail(cloudError(r->error->code, r->error->message));
  CallResult<net::ec2::Reply<T>> out;
  out.value = std::move(*r);
  return out;
}

template <typename T, typename U> CallResult<T> failAs(const CallResult<U> &r) {
  return CallResult<T>::fail(*r.error);
}

} // namespace

Deadline deadlineIn(int64_t ms) {
  if (ms < 0) return noDeadline();
  return Clock::now() + std::chrono::milliseconds(ms);
}

Result<std::shared_ptr<net::HttpClient>> Ec2Client::sharedHttp() {
  static std::mutex mu;
  static std::weak_ptr<net::HttpClient> shared;
  std::lock_guard<std::mutex> g(mu);
  if (auto h = shared.lock()) return h;
  std::unique_ptr<net::HttpClient> started = CFM_TRY(net::HttpClient::start());
  std::shared_ptr<net::HttpClient> h(std::move(started));
  shared = h;
  return h;
}

Result<std::unique_ptr<Ec2Client>> Ec2Client::make(Options options, std::shared_ptr<net::HttpClient> http) {
  const std::string &e = options.endpoint;
  size_t schemeEnd = e.find("://");
  std::string scheme = schemeEnd == std::string::npos ? "" : e.substr(0, schemeEnd);
  if (scheme != "http" && scheme != "https")
    return Error{ErrorKind::Usage, "the cloud endpoint `" + e + "` is not an http:// or https:// URL"};
  size_t hostStart = schemeEnd + 3;
  size_t slash = e.find('/', hostStart);
  std::string host = e.substr(hostStart, slash == std::string::npos ? std::string::npos : slash - hostStart);
  std::string path = slash == std::string::npos ? "/" : e.substr(slash);
  if (host.empty() || host.find_first_of("@?# ") != std::string::npos ||
      path.find_first_of("?# ") != std::string::npos)
    return Error{ErrorKind::Usage, "the cloud endpoint `" + e + "` needs a host and no query or user"};
  if (!http) return Error{ErrorKind::Internal, "an EC2 client needs an HTTP client"};
  return std::unique_ptr<Ec2Client>(new Ec2Client(std::move(options), std::move(http), host, path));
}

Ec2Client::Ec2Client(Options options, std::shared_ptr<net::HttpClient> http, std::string host,
                     std::string path)
    : options_(std::move(options)), http_(std::move(http)), host_(std::move(host)), path_(std::move(path)),
      rng_(std::random_device{}() | (uint64_t(std::random_device{}()) << 32) | 1),
      waiters_(std::make_unique<InstanceWaiters>()) {}

Ec2Client::~Ec2Client() = default;

std::string Ec2Client::newClientToken() {
  static std::mutex mu;
  static std::mt19937_64 gen(std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32));
  std::lock_guard<std::mutex> g(mu);
  static const char *hex = "0123456789abcdef";
  std::string t;
  for (int i = 0; i < 2; ++i) {
    uint64_t v = gen();
    for (int j = 0; j < 16; ++j, v >>= 4) t += hex[v & 15];
  }
  return t;
}

int64_t Ec2Client::backoffMs(int retry) {
  // Full jitter: uniform in [0, min(max, base * 2^retry)].
  const RetryPolicy &p = options_.retry;
  int64_t cap = p.baseDelayMs;
  for (int i = 0; i < retry && cap < p.maxDelayMs; ++i) cap *= 2;
  cap = std::min(cap, p.maxDelayMs);
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return cap <= 0 ? 0 : int64_t(rng_ % uint64_t(cap + 1));
}

bool Ec2Client::exchange(const std::string &body, int64_t timeoutMs, net::HttpClient::Outcome &out,
                         CallError &err) {
  net::HttpRequest signedReq;
  signedReq.method = "POST";
  signedReq.path = path_;
  signedReq.headers = {{"Host", host_}, {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  signedReq.body = body;
  net::SigningOptions so;
  so.region = options_.region;
  so.service = "ec2";
  so.time = static_cast<int64_t>(std::time(nullptr));
  net::HeaderSignature sig = net::signWithHeaders(signedReq, options_.credentials, so);

  net::HttpClient::Request req;
  req.method = "POST";
  req.url = options_.endpoint;
  for (const net::Header &h : signedReq.headers) req.headers.emplace_back(h.name, h.value);
  for (const net::Header &h : sig.headersToAdd) req.headers.emplace_back(h.name, h.value);
  req.body = body;
  req.timeoutMs = std::max<int64_t>(1, timeoutMs);
  req.connectTimeoutMs = std::min<int64_t>(req.timeoutMs, 10000);

  auto done = sched::Completion::create();
  auto box = std::make_shared<net::HttpClient::Outcome>();
  http_->submit(std::move(req), [done, box](net::HttpClient::Outcome o) {
    *box = std::move(o);
    done->complete(true, {});
  });
  bool ok = false;
  std::string payload;
  if (!sched::await(*done, -1, ok, payload)) {
    err = pendingError();
    return false;
  }
  out = std::move(*box);
  return true;
}

CallResult<std::string> Ec2Client::call(std::string_view action, Params params, Deadline deadline) {
  ++stats_.calls;
  Params full{{"Action", std::string(action)}, {"Version", std::string(kEc2ApiVersion)}};
  for (Param &p : params) full.push_back(std::move(p));
  const std::string body = net::encodeForm(full);
  const RetryPolicy &policy = options_.retry;
  const Clock::time_point start = Clock::now();
  auto timedOut = [&](const std::optional<CallError> &last) {
    std::string m =
        std::string(action) + " timed out after " + std::to_string(msBetween(start, Clock::now())) + " ms";
    if (last) m += " (last: " + last->message + ")";
    return CallResult<std::string>::fail(CallError{ErrKind::Timeout, "", std::move(m), false});
  };
  std::optional<CallError> last;
  for (int attempt = 1;; ++attempt) {
    int64_t timeout = policy.requestTimeoutMs;
    if (deadline != noDeadline()) {
      int64_t left = msBetween(Clock::now(), deadline);
      if (left <= 0) return timedOut(last);
      timeout = std::min(timeout, left);
    }
    ++stats_.attempts;
    net::HttpClient::Outcome o;
    CallError err;
    if (!exchange(body, timeout, o, err)) return CallResult<std::string>::fail(err);
    bool retryable = false, throttled = false;
    if (!o.ok && deadline != noDeadline() && Clock::now() >= deadline)
      return timedOut(last); // cut short by it
    if (!o.ok) {
      last = cloudError(std::string(kUnavailableCode),
                        "no reply from " + options_.endpoint + " to " + std::string(action) + " after " +
                            std::to_string(attempt) + " attempt(s): " + o.failure.message);
      retryable = o.failure.retryable;
    } else if (o.response.status >= 200 && o.response.status < 300) {
      CallResult<std::string> r;
      r.value = std::move(o.response.body);
      return r;
    } else if (std::optional<net::ec2::ApiError> e = net::ec2::readError(o.response.body)) {
      last = cloudError(e->code, e->message);
      retryable = (o.response.status >= 500 && !capacityCode(e->code)) || retryableCode(e->code);
      throttled =
          e->code == "RequestLimitExceeded" || e->code == "Throttling" || e->code == "RequestThrottled";
      if (throttled) ++stats_.throttled;
    } else if (o.response.status >= 500) {
      last = cloudError(std::string(kUnavailableCode),
                        std::string(action) + ": HTTP " + std::to_string(o.response.status) + " from " +
                            options_.endpoint + " after " + std::to_string(attempt) + " attempt(s)");
      retryable = true;
    } else {
      last = cloudError(std::string(kInvalidReplyCode),
                        std::string(action) + ": HTTP " + std::to_string(o.response.status) +
                            " without an EC2 error document from " + options_.endpoint);
    }
    // Throttling has a bound of its own: a busy cloud asks everyone to slow down, and the
    // backoff does; the total time still bounds it.
    if (!retryable || attempt >= (throttled ? policy.maxThrottledAttempts : policy.maxAttempts))
      return CallResult<std::string>::fail(*last);
    int64_t delay = backoffMs(attempt - 1);
    Clock::time_point wake = Clock::now() + std::chrono::milliseconds(delay);
    if (msBetween(start, wake) > policy.maxTotalMs) return CallResult<std::string>::fail(*last);
    if (deadline != noDeadline() && wake >= deadline) return timedOut(last);
    ++stats_.retries;
    if (!sched::sleep(delay)) return CallResult<std::string>::fail(pendingError());
  }
}

// ---- actions ----

CallResult<net::ec2::Instance> Ec2Client::runInstance(const RunRequest &r, Deadline deadline) {
  using R = CallResult<net::ec2::Instance>;
  Params p{{"ImageId", r.imageId},
           {"InstanceType", r.instanceType},
           {"MinCount", "1"},
           {"MaxCount", "1"},
           {"ClientToken", r.clientToken.empty() ? newClientToken() : r.clientToken}};
  if (!r.availabilityZone.empty()) p.push_back({"Placement.AvailabilityZone", r.availabilityZone});
  if (!r.userData.empty()) p.push_back({"UserData", r.userData});
  net::appendTagSpecifications(p, r.tags);
  auto body = call("RunInstances", std::move(p), deadline);
  if (!body) return failAs<net::ec2::Instance>(body);
  auto reply =
      readReply<std::vector<net::ec2::Instance>>("RunInstances", body.value, net::ec2::readInstances);
  if (!reply) return failAs<net::ec2::Instance>(reply);
  if (reply.value.value.size() != 1)
    return R::fail(invalidReply(
        "RunInstances", Error{ErrorKind::Syntax,
                              "it names " + std::to_string(reply.value.value.size()) + " instances, not 1"}));
  R out;
  out.value = std::move(reply.value.value[0]);
  return out;
}

CallResult<std::vector<net::ec2::Instance>>
Ec2Client::describeInstances(const std::vector<std::string> &ids, const std::vector<net::Ec2Filter> &filters,
                             Deadline deadline) {
  CallResult<std::vector<net::ec2::Instance>> out;
  std::string token;
  do {
    Params p;
    net::appendList(p, "InstanceId", ids);
    net::appendFilters(p, filters);
    if (!token.empty()) p.push_back({"NextToken", token});
    auto body = call("DescribeInstances", std::move(p), deadline);
    if (!body) return failAs<std::vector<net::ec2::Instance>>(body);
    auto reply =
        readReply<std::vector<net::ec2::Instance>>("DescribeInstances", body.value, net::ec2::readInstances);
    if (!reply) return failAs<std::vector<net::ec2::Instance>>(reply);
    for (auto &i : reply.value.value) out.value.push_back(std::move(i));
    if (!reply.value.nextToken.empty() && reply.value.nextToken == token)
      return CallResult<std::vector<net::ec2::Instance>>::fail(
          invalidReply("DescribeInstances", Error{ErrorKind::Syntax, "it gives the same NextToken again"}));
    token = reply.value.nextToken;
  } while (!token.empty());
  return out;
}

CallResult<std::vector<net::ec2::StateChange>>
Ec2Client::terminateInstances(const std::vector<std::string> &ids, Deadline deadline) {
  Params p;
  net::appendList(p, "InstanceId", ids);
  auto body = call("TerminateInstances", std::move(p), deadline);
  if (!body) return failAs<std::vector<net::ec2::StateChange>>(body);
  auto reply = readReply<std::vector<net::ec2::StateChange>>("TerminateInstances", body.value,
                                                             net::ec2::readStateChanges);
  if (!reply) return failAs<std::vector<net::ec2::StateChange>>(reply);
  CallResult<std::vector<net::ec2::StateChange>> out;
  out.value = std::move(reply.value.value);
  return out;
}

CallResult<net::ec2::Volume> Ec2Client::createVolume(int64_t sizeGiB, std::string_view zone,
                                                     Deadline deadline) {
  Params p{{"Size", std::to_string(sizeGiB)}, {"AvailabilityZone", std::string(zone)}};
  auto body = call("CreateVolume", std::move(p), deadline);
  if (!body) return failAs<net::ec2::Volume>(body);
  auto reply = readReply<std::vector<net::ec2::Volume>>("CreateVolume", body.value, net::ec2::readVolumes);
  if (!reply) return failAs<net::ec2::Volume>(reply);
  if (reply.value.value.size() != 1)
    return CallResult<net::ec2::Volume>::fail(
        invalidReply("CreateVolume", Error{ErrorKind::Syntax, "it describes no single volume"}));
  CallResult<net::ec2::Volume> out;
  out.value = std::move(reply.value.value[0]);
  return out;
}

CallResult<std::vector<net::ec2::Volume>> Ec2Client::describeVolumes(const std::vector<std::string> &ids,
                                                                     Deadline deadline) {
  CallResult<std::vector<net::ec2::Volume>> out;
  std::string token;
  do {
    Params p;
    net::appendList(p, "VolumeId", ids);
    if (!token.empty()) p.push_back({"NextToken", token});
    auto body = call("DescribeVolumes", std::move(p), deadline);
    if (!body) return failAs<std::vector<net::ec2::Volume>>(body);
    auto reply =
        readReply<std::vector<net::ec2::Volume>>("DescribeVolumes", body.value, net::ec2::readVolumes);
    if (!reply) return failAs<std::vector<net::ec2::Volume>>(reply);
    for (auto &v : reply.value.value) out.value.push_back(std::move(v));
    if (!reply.value.nextToken.empty() && reply.value.nextToken == token)
      return CallResult<std::vector<net::ec2::Volume>>::fail(
          invalidReply("DescribeVolumes", Error{ErrorKind::Syntax, "it gives the same NextToken again"}));
    token = reply.value.nextToken;
  } while (!token.empty());
  return out;
}

CallResult<net::ec2::VolumeAttachment> Ec2Client::attachVolume(std::string_view volumeId,
                                                               std::string_view instanceId,
                                                               std::string_view device, Deadline deadline) {
  Params p{{"VolumeId", std::string(volumeId)},
           {"InstanceId", std::string(instanceId)},
           {"Device", std::string(device)}};
  auto body = call("AttachVolume", std::move(p), deadline);
  if (!body) return failAs<net::ec2::VolumeAttachment>(body);
  auto reply = readReply<net::ec2::VolumeAttachment>("AttachVolume", body.value, net::ec2::readAttachment);
  if (!reply) return failAs<net::ec2::VolumeAttachment>(reply);
  CallResult<net::ec2::VolumeAttachment> out;
  out.value = std::move(reply.value.value);
  return out;
}

CallResult<net::ec2::Address> Ec2Client::allocateAddress(Deadline deadline) {
  auto body = call("AllocateAddress", {}, deadline);
  if (!body) return failAs<net::ec2::Address>(body);
  auto reply =
      readReply<std::vector<net::ec2::Address>>("AllocateAddress", body.value, net::ec2::readAddresses);
  if (!reply) return failAs<net::ec2::Address>(reply);
  if (reply.value.value.size() != 1 || reply.value.value[0].publicIp.empty())
    return CallResult<net::ec2::Address>::fail(
        invalidReply("AllocateAddress", Error{ErrorKind::Syntax, "it gives no public IP"}));
  CallResult<net::ec2::Address> out;
  out.value = std::move(reply.value.value[0]);
  return out;
}

CallResult<std::vector<net::ec2::Address>>
Ec2Client::describeAddresses(const std::vector<std::string> &publicIps, Deadline deadline) {
  Params p;
  net::appendList(p, "PublicIp", publicIps);
  auto body = call("DescribeAddresses", std::move(p), deadline);
  if (!body) return failAs<std::vector<net::ec2::Address>>(body);
  auto reply =
      readReply<std::vector<net::ec2::Address>>("DescribeAddresses", body.value, net::ec2::readAddresses);
  if (!reply) return failAs<std::vector<net::ec2::Address>>(reply);
  CallResult<std::vector<net::ec2::Address>> out;
  out.value = std::move(reply.value.value);
  return out;
}

CallResult<std::string> Ec2Client::associateAddress(std::string_view instanceId, std::string_view publicIp,
                                                    std::string_view allocationId, Deadline deadline) {
  Params p{{"InstanceId", std::string(instanceId)}};
  if (!allocationId.empty())
    p.push_back({"AllocationId", std::string(allocationId)});
  else
    p.push_back({"PublicIp", std::string(publicIp)});
  auto body = call("AssociateAddress", std::move(p), deadline);
  if (!body) return body;
  auto reply = readReply<std::string>("AssociateAddress", body.value, net::ec2::readAssociation);
  if (!reply) return failAs<std::string>(reply);
  CallResult<std::string> out;
  out.value = std::move(reply.value.value);
  return out;
}

// ---- waiters ----

namespace {

CallError waitTimedOut(std::string_view what, std::string_view want, std::string_view now, int64_t ms) {
  return CallError{ErrKind::Timeout, "",
                   "timed out after " + std::to_string(ms) + " ms waiting for " + std::string(what) +
                       " to be " + std::string(want) + " (it is " +
                       std::string(now.empty() ? "unknown" : now) + ")",
                   false};
}

enum class Pause { Go, Deadline, Cancelled };

/// Sleeps `delay` (at most until the deadline) before a waiter polls again, then doubles it up
/// to `maxDelay`.
Pause pauseBeforePoll(int64_t &delay, int64_t maxDelay, Deadline deadline) {
  int64_t nap = delay;
  if (deadline != noDeadline()) {
    int64_t left = msBetween(Clock::now(), deadline);
    if (left <= 0) return Pause::Deadline;
    nap = std::min(nap, left);
  }
  if (!sched::sleep(nap)) return Pause::Cancelled;
  delay = std::min(delay * 2, maxDelay);
  return Pause::Go;
}

} // namespace

// The instance waiters of one client share one poll loop: the first waiting task polls for all
// (the leader): one DescribeInstances per 200 instances, by an `instance-id` filter (so that an
// id the cloud does not know yet, or no longer knows, does not fail the others as an
// `InstanceId` list would), then wakes every waiter whose instance reached its state or a
// hopeless one. When the leader's own wait ends (its instance is there, its deadline passed, its
// task was cancelled) it offers the loop to the next waiter. A thousand VMs waited for cost a few
// requests per poll instead of a thousand, and a poll comes every firstDelayMs while the states
// change, backing off to maxDelayMs while nothing does. Everything here runs on the client's
// scheduler thread; only the Completions that wake waiters are cross-thread objects.
struct Ec2Client::InstanceWaiters {
  struct Waiter {
    std::string id, want, seen;
    std::shared_ptr<sched::Completion> wake;
    bool decided = false, leadOffered = false;
    CallResult<net::ec2::Instance> result;
  };
  std::vector<std::shared_ptr<Waiter>> list;
  bool polling = false;
  bool changed = false; // a waiter came or was decided since the last poll
};

namespace {

using Waiter = Ec2Client::InstanceWaiters::Waiter;

/// Decides W with R (the leader wakes it afterwards).
void decide(Waiter &w, CallResult<net::ec2::Instance> r) {
  w.decided = true;
  w.result = std::move(r);
}

/// Judges W against INSTANCE (nullptr: the cloud did not list it): decided or not.
void judge(Waiter &w, net::ec2::Instance *instance) {
  using R = CallResult<net::ec2::Instance>;
  if (!instance) {
    // Absent: a terminated instance the cloud has forgotten is terminated; an instance just
    // started may not be listed yet (AWS is eventually consistent): polled again.
    if (w.want == "terminated") {
      R out;
      out.value.instanceId = w.id;
      out.value.state = {48, "terminated"};
      decide(w, std::move(out));
    }
    return;
  }
  w.seen = instance->state.name;
  if (w.seen == w.want) {
    R out;
    out.value = *instance;
    decide(w, std::move(out));
    return;
  }
  bool hopeless = w.want == "running" && (w.seen == "shutting-down" || w.seen == "terminated" ||
                                          w.seen == "stopping" || w.seen == "stopped");
  if (hopeless) {
    std::string why = instance->stateReasonMessage.empty() ? instance->reason : instance->stateReasonMessage;
    decide(w,
           R::fail(cloudError("IncorrectInstanceState", "instance " + w.id + " is " + w.seen + ", not " +
                                                            w.want + (why.empty() ? "" : " (" + why + ")"))));
  }
}

} // namespace

Ec2Client::PollEnd Ec2Client::pollInstances(Deadline deadline) {
  InstanceWaiters &ws = *waiters_;
  // Instances waited for to be running are asked for only in the states that decide them: an
  // instance still pending is left out of the reply (absent, it is polled again, as one the cloud
  // does not list yet). A thousand VMs starting made every poll a reply describing all those
  // still pending, a few megabytes a second for the cloud to write and the client to parse.
  // Waits for other states ask for every state: there an absent instance means forgotten.
  // Each id once per list (two tasks may wait for one instance), with its waiters; held by
  // shared_ptr, as a waiter may leave the list while a poll is in flight. A chunk judges only
  // the waiters of the list it came from: a reply filtered to the deciding states says nothing
  // of an instance a waiter for `terminated` waits for.
  using Waiters = std::unordered_map<std::string_view, std::vector<std::shared_ptr<Waiter>>>;
  Waiters runWaiters, otherWaiters;
  std::vector<std::string> toRun, other;
  for (auto &w : ws.list) {
    if (w->decided) continue;
    bool running = w->want == "running";
    auto [at, fresh] = (running ? runWaiters : otherWaiters).try_emplace(w->id);
    if (fresh) (running ? toRun : other).push_back(w->id);
    at->second.push_back(w);
  }
  constexpr size_t kPerRequest = 200; // AWS takes up to 200 values in one filter
  for (bool running : {true, false}) {
    const std::vector<std::string> &ids = running ? toRun : other;
    Waiters &waitersOf = running ? runWaiters : otherWaiters;
    for (size_t at = 0, n = ids.size(); at < n; at += kPerRequest) {
      std::vector<std::string> chunk(ids.begin() + at, ids.begin() + std::min(n, at + kPerRequest));
      std::vector<net::Ec2Filter> filters{net::Ec2Filter{"instance-id", chunk}};
      if (running)
        filters.push_back(
            {"instance-state-name", {"running", "shutting-down", "terminated", "stopping", "stopped"}});
      auto got = describeInstances({}, filters, deadline);
      if (!got) {
        const CallError &e = *got.error;
        if (e.pending) return PollEnd::Cancelled;
        if (e.kind == ErrKind::Timeout) return PollEnd::Deadline;
        // A poll that stayed throttled or unanswered through its retries is tried again (each
        // waiter's deadline bounds it); any other error is every waiter's of this chunk.
        if (retryableCode(e.code) || e.code == kUnavailableCode) continue;
        for (const std::string &id : chunk)
          for (auto &w : waitersOf[id])
            if (!w->decided) {
              decide(*w, CallResult<net::ec2::Instance>::fail(e));
              ws.changed = true;
            }
        continue;
      }
      std::unordered_map<std::string_view, net::ec2::Instance *> listed;
      for (net::ec2::Instance &i : got.value) listed[i.instanceId] = &i;
      for (const std::string &id : chunk) {
        auto found = listed.find(id);
        for (auto &w : waitersOf[id]) {
          if (w->decided) continue;
          judge(*w, found == listed.end() ? nullptr : found->second);
          if (w->decided) ws.changed = true;
        }
      }
    }
  }
  return PollEnd::Polled;
}

void Ec2Client::offerLead() {
  for (auto &w : waiters_->list)
    if (!w->decided) {
      w->leadOffered = true;
      w->wake->complete(true, "lead");
      return;
    }
}

CallResult<net::ec2::Instance> Ec2Client::waitInstance(std::string_view id, std::string_view want,
                                                       Deadline deadline) {
  using R = CallResult<net::ec2::Instance>;
  InstanceWaiters &ws = *waiters_;
  const Clock::time_point start = Clock::now();
  auto self = std::make_shared<Waiter>();
  self->id = std::string(id);
  self->want = std::string(want);
  self->wake = sched::Completion::create();
  ws.list.push_back(self);
  ws.changed = true;
  auto timedOut = [&] {
    return R::fail(waitTimedOut("instance " + self->id, want, self->seen, msBetween(start, Clock::now())));
  };
  // Leaves the list; passes the loop on when it was offered to this waiter too late.
  auto leave = [&] {
    ws.list.erase(std::find(ws.list.begin(), ws.list.end(), self));
    if (self->leadOffered) offerLead();
  };
  for (;;) {
    if (self->decided) {
      leave();
      return std::move(self->result);
    }
    if (!ws.polling || self->leadOffered) {
      self->leadOffered = false;
      ws.polling = true;
      int64_t delay = options_.wait.firstDelayMs;
      PollEnd end = PollEnd::Polled;
      for (;;) {
        ws.changed = false;
        end = pollInstances(deadline);
        // Wake the waiters decided by this poll (this one returns below).
        for (auto &w : ws.list)
          if (w->decided && w != self) w->wake->complete(true, "done");
        if (end != PollEnd::Polled || self->decided) break;
        if (ws.changed) delay = options_.wait.firstDelayMs; // back to quick polls while states change
        Pause p = pauseBeforePoll(delay, options_.wait.maxDelayMs, deadline);
        if (p == Pause::Go) continue;
        end = p == Pause::Deadline ? PollEnd::Deadline : PollEnd::Cancelled;
        break;
      }
      ws.polling = false;
      leave();
      offerLead();
      if (self->decided) return std::move(self->result);
      if (end == PollEnd::Cancelled) return R::fail(pendingError());
      return timedOut();
    }
    // Another task polls: sleep until it decides this waiter or offers it the loop.
    bool ok = false;
    std::string payload;
    int64_t left = deadline == noDeadline() ? -1 : std::max<int64_t>(0, msBetween(Clock::now(), deadline));
    if (!sched::await(*self->wake, left, ok, payload)) {
      ErrorVal *e = rt::pendingError();
      bool timeout = e && e->errKind->view() == "timeout";
      if (timeout) clearError();
      leave();
      if (self->decided) return std::move(self->result);
      if (!timeout) return R::fail(pendingError());
      return timedOut();
    }
    self->wake = sched::Completion::create();
  }
}

CallResult<net::ec2::Instance> Ec2Client::waitInstanceRunning(std::string_view id, Deadline deadline) {
  return waitInstance(id, "running", deadline);
}

CallResult<net::ec2::Instance> Ec2Client::waitInstanceTerminated(std::string_view id, Deadline deadline) {
  return waitInstance(id, "terminated", deadline);
}

CallResult<net::ec2::Volume> Ec2Client::waitVolume(std::string_view volumeId, std::string_view instanceId,
                                                   std::string_view want, Deadline deadline) {
  using R = CallResult<net::ec2::Volume>;
  const Clock::time_point start = Clock::now();
  int64_t delay = options_.wait.firstDelayMs;
  std::string seen;
  const std::string what = "volume " + std::string(volumeId);
  for (;;) {
    auto got = describeVolumes({std::string(volumeId)}, deadline);
    if (!got) {
      if (got.error->kind == ErrKind::Timeout)
        return R::fail(waitTimedOut(what, want, seen, msBetween(start, Clock::now())));
      if (got.error->pending || !(retryableCode(got.error->code) || got.error->code == kUnavailableCode))
        return R::fail(*got.error);
      got.value.clear(); // polled again below, as waitInstance does
    }
    for (net::ec2::Volume &v : got.value) {
      if (v.volumeId != volumeId) continue;
      seen = v.status;
      if (want == "available" && v.status == "available") {
        R out;
        out.value = std::move(v);
        return out;
      }
      if (want == "attached")
        for (const net::ec2::VolumeAttachment &a : v.attachments)
          if (a.instanceId == instanceId) {
            seen = a.status;
            if (a.status == "attached") {
              R out;
              out.value = std::move(v);
              return out;
            }
          }
      if (v.status == "error" || v.status == "deleted" || v.status == "deleting")
        return R::fail(cloudError("IncorrectState", what + " is " + v.status + ", not " + std::string(want)));
    }
    switch (pauseBeforePoll(delay, options_.wait.maxDelayMs, deadline)) {
    case Pause::Go: break;
    case Pause::Deadline: return R::fail(waitTimedOut(what, want, seen, msBetween(start, Clock::now())));
    case Pause::Cancelled: return R::fail(pendingError());
    }
  }
}

CallResult<net::ec2::Volume> Ec2Client::waitVolumeAttached(std::string_view volumeId,
                                                           std::string_view instanceId, Deadline deadline) {
  return waitVolume(volumeId, instanceId, "attached", deadline);
}

CallResult<net::ec2::Volume> Ec2Client::waitVolumeAvailable(std::string_view volumeId, Deadline deadline) {
  return waitVolume(volumeId, "", "available", deadline);
}

} // namespace cfm::rt::cloud
