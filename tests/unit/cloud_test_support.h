// cloud_test_support.h — helpers of the cloud driver's tests (ec2_driver_test.cpp,
// cloud_manager_test.cpp): run a body as the main task of a scheduler (the driver suspends
// tasks, so it only runs inside one), and take the pending runtime error apart.
#pragma once

#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"
#include "runtime/value.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace cfm::rt::cloud::testing {

inline bool callBody(void *env, Slot *) {
  (*static_cast<std::function<void()> *>(env))();
  return true;
}

/// Runs `body` as the first task of a scheduler on this thread; returns when every task ended.
inline void inTask(std::function<void()> body) {
  Slot r{0};
  ASSERT_TRUE(sched::runMain(callBody, &body, &r));
}

/// Starts a task running `body` in the running task's scope; returns it (a new reference).
inline Obj *spawnBody(std::function<void()> body) {
  static const TypeDesc kVoid{Kind::Void};
  return sched::spawn(&kVoid, callBody, new std::function<void()>(std::move(body)),
                      [](void *env) { delete static_cast<std::function<void()> *>(env); });
}

/// The pending runtime error, taken: kind, code and message ("" when none is pending).
struct RaisedError {
  std::string kind, code, message;
};
inline RaisedError takeRaised() {
  RaisedError out;
  if (ErrorVal *e = takeError()) {
    out = {std::string(e->errKind->view()), std::string(e->code->view()), std::string(e->message->view())};
    release(e);
  }
  return out;
}

} // namespace cfm::rt::cloud::testing
