// ast.cpp — the node arena and small helpers of the syntax tree.
#include "ast/ast.h"

#include <cstdio>
#include <cstdlib>

#include <algorithm>

namespace cfm::ast {

Arena::~Arena() {
  for (size_t i = dtors_.size(); i-- > 0;) dtors_[i].fn(dtors_[i].obj);
}

void *Arena::allocate(size_t size, size_t align) {
  size_t pad = (align - reinterpret_cast<uintptr_t>(cur_) % align) % align;
  if (size + pad > left_) {
    size_t n = std::max<size_t>(64 * 1024, size + align);
    blocks_.push_back(std::make_unique<char[]>(n));
    cur_ = blocks_.back().get();
    left_ = n;
    pad = (align - reinterpret_cast<uintptr_t>(cur_) % align) % align;
  }
  char *p = cur_ + pad;
  cur_ = p + size;
  left_ -= size + pad;
  return p;
}

const ApiSignature *apiSignature(Builtin b) {
#define P(n, t) ApiParam(#n, ApiType::t)
#define D(n, t, v) ApiParam(#n, ApiType::t, v)
#define API(id, ret, ...) ApiSignature{Builtin::id, ApiType::ret, {__VA_ARGS__}},
  static const ApiSignature kApi[] = {
#include "ast/builtins.def"
  };
#undef D
#undef P
  for (const ApiSignature &s : kApi)
    if (s.id == b) return &s;
  return nullptr;
}

const char *binOpText(BinOp op) {
  static const char *const t[] = {"||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};
  return t[static_cast<int>(op)];
}

void unreachableBuiltin(Builtin b, const char *where) {
  // A broken invariant of the compiler, not a user error: say where, then stop.
  std::fprintf(stderr, "cfm: internal error: built-in #%d reached %s\n", static_cast<int>(b), where);
  std::abort();
}

} // namespace cfm::ast
