// events.cpp — CloudManager's cloud events (manager.h; API.md "Cloud events"): publish into the
// store's history and outbox, and wait_cloud_event's per-run reading of the history — which
// events the run has been given, `match` through the caller's predicate, and sleeping on the
// scheduler until an event is stored or the timeout passes.
#include "runtime/cloud/manager.h"

#include "runtime/value.h"

#include <algorithm>
#include <chrono>

namespace cfm::rt::cloud {

namespace {

/// Events read from the store per query while a wait looks for its event.
constexpr size_t kEventPage = 256;

} // namespace

bool CloudManager::publishCloudEvent(std::string_view systemId, std::string_view name,
                                     std::string_view dataJson) {
  if (!config_.broker) {
    auto queued = store_.outboxSize();
    if (!queued) return failStore(queued.error());
    if (*queued >= kMaxOutboxWithoutBroker)
      return rt::raise(ErrKind::Event, "not_connected",
                       "manager " + config_.managerName + " has no broker and its outbox holds " +
                           std::to_string(*queued) + " events (the most it keeps)");
  }
  auto ev = store_.publishEvent(systemId, config_.managerName, name, dataJson, rt::nowMs());
  if (!ev) return failStore(ev.error());
  eventsArrived(); // this run's own tasks may wait for it
  if (onPublished_) onPublished_();
  return true;
}

void CloudManager::eventsArrived() {
  std::vector<std::shared_ptr<sched::Completion>> waiting;
  {
    std::lock_guard<std::mutex> g(eventsMu_);
    waiting.swap(eventWaiters_);
  }
  for (auto &c : waiting) c->complete(true, "");
}

bool CloudManager::waitCloudEvent(std::string_view systemId, std::string_view name, int64_t timeoutMs,
                                  const std::function<bool(std::string_view)> &accept, CloudEvent &out) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  const auto key = std::make_pair(std::string(systemId), std::string(name));
  auto [cursorAt, fresh] = eventCursor_.try_emplace(key, eventsStart_);
  (void)fresh;
  for (;;) {
    // Registered before the store is read, so that an event stored in between wakes this wait.
    auto wake = sched::Completion::create();
    {
      std::lock_guard<std::mutex> g(eventsMu_);
      eventWaiters_.push_back(wake);
    }
    auto unregister = [&] {
      std::lock_guard<std::mutex> g(eventsMu_);
      eventWaiters_.erase(std::remove(eventWaiters_.begin(), eventWaiters_.end(), wake), eventWaiters_.end());
    };
    int64_t &cursor = cursorAt->second;
    int64_t after = cursor;
    bool contiguous = true; // every event up to `after` was given to the run
    for (;;) {
      auto page = store_.eventsAfter(after, systemId, name, kEventPage);
      if (!page) return unregister(), failStore(page.error());
      for (const store::Store::CloudEventRow &row : *page) {
        after = row.id;
        if (eventsGiven_.count(row.id)) {
          if (contiguous) {
            cursor = row.id;
            eventsGiven_.erase(row.id);
          }
          continue;
        }
        if (!accept(row.dataJson)) {
          contiguous = false;
          continue;
        }
        if (contiguous)
          cursor = row.id;
        else
          eventsGiven_.insert(row.id);
        out = CloudEvent{row.system, row.name, row.dataJson, row.source, row.seq, row.publishedAt};
        unregister();
        return true;
      }
      if (page->size() < kEventPage) break;
    }
    int64_t left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    auto timedOut = [&] {
      return rt::raise(ErrKind::Timeout, "wait_cloud_event timed out after " + formatDuration(timeoutMs) +
                                             " waiting for event " + quote(name) + " of system " +
                                             quote(systemId));
    };
    if (left <= 0) return unregister(), timedOut();
    // With a store poll, the wait naps at most that long, then reads the store again.
    bool nap = storePollMs_ > 0 && left > storePollMs_;
    bool ok = false;
    std::string payload;
    if (sched::await(*wake, nap ? storePollMs_ : left, ok, payload)) continue; // woken: read again
    unregister();
    ErrorVal *e = rt::pendingError(); // a timeout, or the task's cancellation (left pending)
    if (!e || e->errKind->view() != "timeout") return false;
    rt::clearError();
    if (!nap) return timedOut();
  }
}

} // namespace cfm::rt::cloud
