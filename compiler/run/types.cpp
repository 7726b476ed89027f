// types.cpp — the checker's types as runtime type descriptors (types.h).
#include "run/types.h"

#include "sema/symbols.h"

namespace cfm::run {

using rt::Kind;
using sema::TypeKind;

const rt::TypeDesc *TypeTable::get(const sema::Type *t) {
  auto it = map_.find(t);
  if (it != map_.end()) return it->second.get();
  Kind k = Kind::Void;
  switch (t->kind) {
  case TypeKind::Int: k = Kind::Int; break;
  case TypeKind::Float: k = Kind::Float; break;
  case TypeKind::Bool: k = Kind::Bool; break;
  case TypeKind::String: k = Kind::String; break;
  case TypeKind::Duration: k = Kind::Duration; break;
  case TypeKind::Void:
  case TypeKind::Error: k = Kind::Void; break;
  case TypeKind::Json:
  case TypeKind::Null: k = Kind::Json; break;
  case TypeKind::ErrorValue: k = Kind::Error; break;
  case TypeKind::List: k = Kind::List; break;
  case TypeKind::Map: k = Kind::Map; break;
  case TypeKind::Task: k = Kind::Task; break;
  case TypeKind::Record: k = Kind::Record; break;
  }
  auto d = std::make_unique<rt::TypeDesc>(k);
  rt::TypeDesc *raw = d.get();
  map_[t] = std::move(d); // before the parts: records may refer to themselves through lists
  if (t->a) raw->elem = get(t->a);
  if (t->b) raw->value = get(t->b);
  if (t->kind == TypeKind::Record) {
    raw->name = t->record->name;
    raw->model = t->record->model;
    for (const sema::FieldInfo &fi : t->record->fields) {
      raw->fieldNames.push_back(fi.name);
      raw->fieldTypes.push_back(get(fi.type));
    }
  }
  return raw;
}

} // namespace cfm::run
