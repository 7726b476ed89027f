// types.cpp — interning and printing of types.
#include "sema/types.h"

#include "sema/symbols.h"

namespace cfm::sema {

std::string Type::str() const {
  switch (kind) {
  case TypeKind::Int: return "int";
  case TypeKind::Float: return "float";
  case TypeKind::Bool: return "bool";
  case TypeKind::String: return "string";
  case TypeKind::Duration: return "duration";
  case TypeKind::Void: return "void";
  case TypeKind::Json: return "json";
  case TypeKind::Null: return "null";
  case TypeKind::ErrorValue: return "error";
  case TypeKind::Error: return "<error>";
  case TypeKind::List: return "list<" + a->str() + ">";
  case TypeKind::Map: return "map<" + a->str() + ", " + b->str() + ">";
  case TypeKind::Task: return "Task<" + a->str() + ">";
  case TypeKind::Record: return record->name;
  }
  return "?";
}

TypeContext::TypeContext() {
  intT = make(TypeKind::Int, nullptr, nullptr, nullptr);
  floatT = make(TypeKind::Float, nullptr, nullptr, nullptr);
  boolT = make(TypeKind::Bool, nullptr, nullptr, nullptr);
  stringT = make(TypeKind::String, nullptr, nullptr, nullptr);
  durationT = make(TypeKind::Duration, nullptr, nullptr, nullptr);
  voidT = make(TypeKind::Void, nullptr, nullptr, nullptr);
  jsonT = make(TypeKind::Json, nullptr, nullptr, nullptr);
  nullT = make(TypeKind::Null, nullptr, nullptr, nullptr);
  errorValueT = make(TypeKind::ErrorValue, nullptr, nullptr, nullptr);
  errorT = make(TypeKind::Error, nullptr, nullptr, nullptr);
}

const Type *TypeContext::make(TypeKind k, const Type *a, const Type *b, RecordInfo *r) const {
  auto key = std::make_tuple(static_cast<int>(k), a, b, r);
  auto it = interned_.find(key);
  if (it != interned_.end()) return it->second.get();
  auto t = std::make_unique<Type>();
  t->kind = k;
  t->a = a;
  t->b = b;
  t->record = r;
  t->badFlag = k == TypeKind::Error || (a && a->badFlag) || (b && b->badFlag);
  const Type *p = t.get();
  interned_.emplace(key, std::move(t));
  return p;
}

const Type *TypeContext::list(const Type *e) const { return make(TypeKind::List, e, nullptr, nullptr); }
const Type *TypeContext::map(const Type *k, const Type *v) const {
  return make(TypeKind::Map, k, v, nullptr);
}
const Type *TypeContext::task(const Type *r) const { return make(TypeKind::Task, r, nullptr, nullptr); }
const Type *TypeContext::record(RecordInfo *r) const { return make(TypeKind::Record, nullptr, nullptr, r); }

} // namespace cfm::sema
