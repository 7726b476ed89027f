// types.h — runtime type descriptors for the checker's types, shared by both engines (the
// interpreter's program and each JIT module keep a table of their own).
#pragma once

#include "runtime/value.h"
#include "sema/types.h"

#include <memory>
#include <unordered_map>

namespace cfm::run {

/// Runtime type descriptors for the checker's types, built on first use and owned by the table
/// (values made with them must not outlive it).
class TypeTable {
public:
  const rt::TypeDesc *get(const sema::Type *t);

private:
  std::unordered_map<const sema::Type *, std::unique_ptr<rt::TypeDesc>> map_;
};

} // namespace cfm::run
