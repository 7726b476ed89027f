// types.h — the types of the language (LANGUAGE.md "Types"), interned: two types are equal
// exactly when their pointers are. `Error` is the checker's sentinel for "already reported":
// every rule accepts it silently, so one mistake gives one diagnostic.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace cfm::sema {

struct RecordInfo;

enum class TypeKind {
  Int,
  Float,
  Bool,
  String,
  Duration,
  Void,
  Json,
  Null,
  ErrorValue,
  Error,
  List,
  Map,
  Task,
  Record
};

class Type {
public:
  TypeKind kind;
  const Type *a = nullptr; // element (List, Task) or key (Map)
  const Type *b = nullptr; // value (Map)
  RecordInfo *record = nullptr;
  bool is(TypeKind k) const { return kind == k; }
  /// True if this type is or contains the error sentinel.
  bool bad() const { return badFlag; }
  std::string str() const;
  bool badFlag = false;
};

/// Owns all types of one compilation.
class TypeContext {
public:
  TypeContext();
  const Type *intT, *floatT, *boolT, *stringT, *durationT, *voidT, *jsonT, *nullT, *errorValueT, *errorT;
  // Interning is logically const: a type asked for again is the same pointer.
  const Type *list(const Type *elem) const;
  const Type *map(const Type *key, const Type *value) const;
  const Type *task(const Type *result) const;
  const Type *record(RecordInfo *r) const;
  /// Calls `f(const Type *)` for every type interned so far, the primitives included (the JIT's
  /// object loader binds a cached object's `cfm.type.<T>` symbols by `Type::str()`).
  template <class F> void forEach(F f) const {
    for (const auto &entry : interned_) f(entry.second.get());
  }

private:
  const Type *make(TypeKind k, const Type *a, const Type *b, RecordInfo *r) const;
  mutable std::map<std::tuple<int, const Type *, const Type *, RecordInfo *>, std::unique_ptr<Type>>
      interned_;
};

} // namespace cfm::sema
