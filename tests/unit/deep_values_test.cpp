// deep_values_test.cpp — the stress target for deep values inside tasks (issue 12): values
// nested far deeper than a task's stack could recurse — json of random arrays and objects, a
// recursive record — are built, written as text, compared, converted and freed by many tasks
// at once on the smallest task stack, while their neighbours keep a canary on their own stacks
// and check it after every sleep. Before runtime/sched/stack.h the walks ran off the stack into
// the neighbours' (a wrong result, then SIGSEGV); here every result is checked exactly.
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"
#include "runtime/sched/stack.h"

#include <gtest/gtest.h>

#include <cstring>
#include <pthread.h>
#include <random>
#include <string>

namespace cfm::rt::sched {
namespace {

const TypeDesc kInt{Kind::Int};
const TypeDesc kJson{Kind::Json};
const TypeDesc kListJson{Kind::List, &kJson};

/// A json nested `depth` levels, each level an array or a one-key object chosen by `seed`, with
/// `leaf` innermost; `text` receives its compact JSON, built without recursion.
Json *buildJson(int depth, uint64_t seed, int64_t leaf, std::string &text) {
  std::mt19937_64 rng(seed);
  std::string open, close;
  Json *j = jsonInt(leaf);
  std::vector<bool> kinds(static_cast<size_t>(depth));
  for (int i = 0; i < depth; ++i) kinds[static_cast<size_t>(i)] = rng() & 1;
  for (int i = 0; i < depth; ++i) {
    Json *w = new Json();
    if (kinds[static_cast<size_t>(i)]) {
      w->j = Json::J::Array;
    } else {
      w->j = Json::J::Object;
      w->keys.push_back(newStr("k"));
    }
    w->items.push_back(j);
    j = w;
  }
  // outermost first
  for (int i = depth - 1; i >= 0; --i) open += kinds[static_cast<size_t>(i)] ? "[" : "{\"k\":";
  for (int i = 0; i < depth; ++i) close += kinds[static_cast<size_t>(i)] ? "]" : "}";
  text = open + std::to_string(leaf) + close;
  return j;
}

using Body = std::function<bool(Slot *)>;
bool callBody(void *env, Slot *r) { return (*static_cast<Body *>(env))(r); }
void dropBody(void *env) { delete static_cast<Body *>(env); }

Options smallStacks() {
  Options o = optionsFromEnv();
  o.taskStackBytes = kMinTaskStack;
  return o;
}

TEST(DeepValues, JsonWalksInManyTasksBesideCanaries) {
  constexpr int kWalkers = 8, kSleepers = 8;
  int checked = 0, canariesOk = 0;
  Body main = [&](Slot *) {
    std::vector<Obj *> tasks;
    for (int s = 0; s < kSleepers; ++s)
      tasks.push_back(spawn(&kInt, callBody, new Body([&, s](Slot *r) {
        volatile unsigned char canary[2048];
        for (size_t i = 0; i < sizeof canary; ++i) canary[i] = static_cast<unsigned char>(i * 7 + s);
        for (int round = 0; round < 20; ++round)
          if (!sleep(1)) return false;
        bool ok = true;
        for (size_t i = 0; i < sizeof canary; ++i)
          ok = ok && canary[i] == static_cast<unsigned char>(i * 7 + s);
        if (ok) ++canariesOk;
        r->i = 0;
        return true;
      }),
                            dropBody));
    for (int w = 0; w < kWalkers; ++w)
      tasks.push_back(spawn(&kInt, callBody, new Body([&, w](Slot *r) {
        int depth = 20000 + w * 15000;
        std::string want, want2;
        Json *a = buildJson(depth, 1000 + w, w, want);
        Json *b = buildJson(depth, 1000 + w, w, want2);
        Json *c = buildJson(depth, 1000 + w, w + 1, want2);
        if (!sleep(1)) return false;
        std::string got;
        writeJson(got, a);
        EXPECT_EQ(got, want);
        EXPECT_TRUE(jsonEqual(a, b));
        EXPECT_FALSE(jsonEqual(a, c));
        EXPECT_EQ(format(Slot{.o = a}, &kJson), want);
        // to_json of a list<json> holding it: one more level
        List *l = new List(&kListJson);
        retain(a);
        l->items.push_back(Slot{.o = a});
        Json *wrapped = toJson(Slot{.o = l}, &kListJson);
        std::string wtext;
        writeJson(wtext, wrapped);
        EXPECT_EQ(wtext, "[" + want + "]");
        if (!sleep(1)) return false;
        release(wrapped);
        release(l);
        release(a);
        release(b);
        release(c);
        ++checked;
        r->i = 0;
        return true;
      }),
                            dropBody));
    for (Obj *t : tasks) {
      Slot out{0};
      if (!wait(t, -1, out)) return false;
      release(t);
    }
    return true;
  };
  Slot r{0};
  ASSERT_TRUE(runMain(callBody, &main, &r, smallStacks()));
  EXPECT_EQ(checked, kWalkers);
  EXPECT_EQ(canariesOk, kSleepers);
}

TEST(DeepValues, RecursiveRecordInATask) {
  // record Node { v: int, kids: list<Node> }: a type that refers to itself
  TypeDesc node{Kind::Record};
  TypeDesc kids{Kind::List, &node};
  node.name = "Node";
  node.fieldNames = {"v", "kids"};
  node.fieldTypes = {&kInt, &kids};
  auto chain = [&](int n) {
    Record *x = nullptr;
    for (int i = 0; i < n; ++i) {
      Record *r = new Record(&node);
      r->fields[0].i = i;
      List *l = new List(&kids);
      if (x) l->items.push_back(Slot{.o = x});
      r->fields[1].o = l;
      x = r;
    }
    return x;
  };
  bool done = false;
  Body main = [&](Slot *) {
    Obj *t = spawn(&kInt, callBody, new Body([&](Slot *r) {
      Record *a = chain(100000), *b = chain(100000), *c = chain(99999);
      EXPECT_TRUE(equal(Slot{.o = a}, Slot{.o = b}, &node));
      EXPECT_FALSE(equal(Slot{.o = a}, Slot{.o = c}, &node));
      std::string s = format(Slot{.o = a}, &node);
      std::string want;
      for (int i = 99999; i > 0; --i) want += "Node { v: " + std::to_string(i) + ", kids: [";
      want += "Node { v: 0, kids: [] }";
      for (int i = 99999; i > 0; --i) want += "] }";
      EXPECT_EQ(s, want);
      Json *j = toJson(Slot{.o = a}, &node);
      std::string text;
      writeJson(text, j);
      EXPECT_EQ(text.rfind("{\"v\":99999,\"kids\":[{\"v\":99998,", 0), 0u);
      release(j);
      release(a);
      release(b);
      release(c);
      done = true;
      r->i = 0;
      return true;
    }),
                   dropBody);
    Slot out{0};
    bool ok = wait(t, -1, out);
    release(t);
    return ok;
  };
  Slot r{0};
  ASSERT_TRUE(runMain(callBody, &main, &r, smallStacks()));
  EXPECT_TRUE(done);
}

void *walkOnSmallThread(void *) {
  std::string want;
  Json *j = buildJson(200000, 7, 1, want);
  std::string got;
  writeJson(got, j);
  bool same = got == want;
  release(j); // freeing recurses as deep as the value
  return reinterpret_cast<void *>(same ? 1 : 0);
}

TEST(DeepValues, OutsideASchedulerOnASmallThreadStack) {
  // No task: the limit is the thread's own stack (256 KiB here), as pthread reports it.
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, size_t(256) << 10);
  pthread_t th;
  ASSERT_EQ(pthread_create(&th, &a, walkOnSmallThread, nullptr), 0);
  pthread_attr_destroy(&a);
  void *res = nullptr;
  pthread_join(th, &res);
  EXPECT_EQ(res, reinterpret_cast<void *>(1));
}

TEST(DeepValues, WithStackGivesTheRoomAskedFor) {
  bool ran = false;
  Body main = [&](Slot *) {
    Obj *t = spawn(&kInt, callBody, new Body([&](Slot *r) {
      EXPECT_TRUE(stackShort(size_t(1) << 20)); // a 128 KiB task
      withStack(size_t(1) << 20, size_t(2) << 20, [&] {
        EXPECT_FALSE(stackShort(size_t(1) << 20));
        ran = true;
      });
      r->i = 0;
      return true;
    }),
                   dropBody);
    Slot out{0};
    bool ok = wait(t, -1, out);
    release(t);
    return ok;
  };
  Slot r{0};
  ASSERT_TRUE(runMain(callBody, &main, &r, smallStacks()));
  EXPECT_TRUE(ran);
}

} // namespace
} // namespace cfm::rt::sched
