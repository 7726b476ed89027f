// exprs.cpp — expression nodes of the interpreter: literals, variables, operators specialised
// by static type, collections, records, json, indexing and members (LANGUAGE.md "Expressions").
#include "interp/exprs.h"

#include <cmath>

namespace cfm::interp {

using namespace rt;

bool failAt(Frame &f, support::Loc loc) {
  if (pendingError()) recordTraceLine(f.prog->sources->file(loc.file).path(), loc.line);
  return false;
}

bool ConstNode::eval(Frame &, Slot &out) {
  out = value;
  if (type->boxed()) retain(value.o);
  return true;
}
ConstNode::~ConstNode() {
  if (type->boxed()) release(value.o);
}

bool LocalGet::eval(Frame &f, Slot &out) {
  out = f.slots[slot];
  if (boxed) retain(out.o);
  return true;
}

bool GlobalGet::eval(Frame &f, Slot &out) {
  out = f.prog->globals[static_cast<size_t>(index)];
  if (type->boxed()) retain(out.o);
  return true;
}

bool NullNode::eval(Frame &, Slot &out) {
  out.o = jsonNull();
  return true;
}

bool ToJsonNode::eval(Frame &f, Slot &out) {
  Slot v;
  if (!inner->eval(f, v)) return false;
  HeldSlot held(inner->type, v);
  out.o = toJson(v, inner->type);
  return true;
}

bool StringNode::eval(Frame &f, Slot &out) {
  std::string s;
  for (Part &p : parts) {
    if (!p.expr) {
      s += p.text;
      continue;
    }
    Slot v;
    if (!p.expr->eval(f, v)) return false;
    HeldSlot held(p.expr->type, v);
    format(s, v, p.expr->type);
  }
  out.o = newStr(s);
  return true;
}

bool ListNode::eval(Frame &f, Slot &out) {
  Ref<List> l(newList(type));
  l->items.reserve(elems.size());
  for (EPtr &e : elems) {
    Slot v;
    if (!e->eval(f, v)) return false;
    l->items.push_back(v);
  }
  out.o = l.take();
  return true;
}

bool JsonArrayNode::eval(Frame &f, Slot &out) {
  Ref<Json> j(new Json());
  j->j = Json::J::Array;
  for (EPtr &e : elems) {
    Slot v;
    if (!e->eval(f, v)) return false;
    j->items.push_back(static_cast<Json *>(v.o));
  }
  out.o = j.take();
  return true;
}

bool MapNode::eval(Frame &f, Slot &out) {
  Ref<Map> m(newMap(type));
  for (auto &[k, v] : entries) {
    Slot ks, vs;
    if (!k->eval(f, ks)) return false;
    HeldSlot key(k->type, ks);
    if (!v->eval(f, vs)) return false;
    mapSet(m.get(), key.take(), vs);
  }
  out.o = m.take();
  return true;
}

bool JsonObjectNode::eval(Frame &f, Slot &out) {
  Ref<Json> j(new Json());
  j->j = Json::J::Object;
  for (auto &[k, v] : entries) {
    Slot ks, vs;
    if (!k->eval(f, ks)) return false;
    Ref<Str> key(static_cast<Str *>(ks.o));
    if (!v->eval(f, vs)) return false;
    jsonObjectSet(j.get(), key.take(), static_cast<Json *>(vs.o));
  }
  out.o = j.take();
  return true;
}

bool RecordNode::eval(Frame &f, Slot &out) {
  Ref<Record> r(new Record(type));
  for (auto &[idx, e] : fields) {
    Slot v;
    if (!e->eval(f, v)) return false;
    r->fields[static_cast<size_t>(idx)] = v;
  }
  out.o = r.take();
  return true;
}

// ---- operators ----

bool UnaryNode::eval(Frame &f, Slot &out) {
  Slot v;
  if (!operand->eval(f, v)) return false;
  switch (op) {
  case Op::NegInt:
    if (!negInt(v.i, out.i)) return failAt(f, loc);
    return true;
  case Op::NegFloat: out.f = -v.f; return true;
  case Op::Not: out.i = !v.i; return true;
  }
  return true;
}

bool BinaryNode::eval(Frame &f, Slot &out) {
  Slot a, b;
  if (op == Op::And || op == Op::Or) {
    if (!lhs->eval(f, a)) return false;
    if ((op == Op::And) != (a.i != 0)) {
      out.i = a.i;
      return true;
    }
    return rhs->eval(f, out);
  }
  if (!lhs->eval(f, a)) return false;
  HeldSlot heldA(lhs->type, a);
  if (!rhs->eval(f, b)) return false;
  HeldSlot heldB(rhs->type, b);
  if (!apply(op, a, b, lhs->type, out)) return failAt(f, loc);
  return true;
}

bool BinaryNode::apply(Op op, Slot a, Slot b, const TypeDesc *operandType, Slot &out) {
  bool ok = true;
  switch (op) {
  case Op::AddInt: ok = addInt(a.i, b.i, out.i); break;
  case Op::SubInt: ok = subInt(a.i, b.i, out.i); break;
  case Op::MulInt: ok = mulInt(a.i, b.i, out.i); break;
  case Op::DivInt: ok = divInt(a.i, b.i, out.i); break;
  case Op::ModInt: ok = modInt(a.i, b.i, out.i); break;
  case Op::AddFloat: out.f = a.f + b.f; break;
  case Op::SubFloat: out.f = a.f - b.f; break;
  case Op::MulFloat: out.f = a.f * b.f; break;
  case Op::DivFloat: out.f = a.f / b.f; break;
  case Op::ModFloat: out.f = modFloat(a.f, b.f); break;
  case Op::LtInt: out.i = a.i < b.i; break;
  case Op::LeInt: out.i = a.i <= b.i; break;
  case Op::GtInt: out.i = a.i > b.i; break;
  case Op::GeInt: out.i = a.i >= b.i; break;
  case Op::LtFloat: out.i = a.f < b.f; break;
  case Op::LeFloat: out.i = a.f <= b.f; break;
  case Op::GtFloat: out.i = a.f > b.f; break;
  case Op::GeFloat: out.i = a.f >= b.f; break;
  case Op::EqScalar: out.i = a.i == b.i; break;
  case Op::NeScalar: out.i = a.i != b.i; break;
  case Op::EqFloat: out.i = a.f == b.f; break;
  case Op::NeFloat: out.i = a.f != b.f; break;
  case Op::Eq: out.i = equal(a, b, operandType); break;
  case Op::Ne: out.i = !equal(a, b, operandType); break;
  case Op::LtStr:
  case Op::LeStr:
  case Op::GtStr:
  case Op::GeStr: {
    int c = static_cast<Str *>(a.o)->view().compare(static_cast<Str *>(b.o)->view());
    out.i = op == Op::LtStr ? c < 0 : op == Op::LeStr ? c <= 0 : op == Op::GtStr ? c > 0 : c >= 0;
    break;
  }
  case Op::Concat: out.o = concat(static_cast<Str *>(a.o), static_cast<Str *>(b.o)); break;
  case Op::ListConcat: out.o = listConcat(static_cast<List *>(a.o), static_cast<List *>(b.o)); break;
  case Op::And: out.i = a.i && b.i; break;
  case Op::Or: out.i = a.i || b.i; break;
  }
  return ok;
}

// ---- indexing and members ----

bool IndexNode::eval(Frame &f, Slot &out) {
  Slot base, idx;
  if (!this->base->eval(f, base)) return false;
  HeldSlot heldBase(this->base->type, base);
  if (!index->eval(f, idx)) return false;
  HeldSlot heldIdx(index->type, idx);
  bool ok = true;
  switch (kind) {
  case Kind::List:
    ok = listGet(static_cast<List *>(base.o), idx.i, out);
    if (ok) retainSlot(out, type);
    break;
  case Kind::Map:
    ok = mapGet(static_cast<Map *>(base.o), idx, out);
    if (ok) retainSlot(out, type);
    break;
  case Kind::JsonKey: {
    Json *j = nullptr;
    ok = jsonIndexKey(static_cast<Json *>(base.o), static_cast<Str *>(idx.o)->view(), j);
    out.o = j;
    break;
  }
  case Kind::JsonInt: {
    Json *j = nullptr;
    ok = jsonIndexInt(static_cast<Json *>(base.o), idx.i, j);
    out.o = j;
    break;
  }
  }
  if (!ok) return failAt(f, loc);
  return true;
}

bool FieldNode::eval(Frame &f, Slot &out) {
  Slot r;
  if (!base->eval(f, r)) return false;
  if (errorField) {
    ErrorVal *e = static_cast<ErrorVal *>(r.o);
    Str *s = field == 0 ? e->errKind : field == 1 ? e->message : e->code;
    retain(s);
    out.o = s;
  } else {
    out = static_cast<Record *>(r.o)->fields[static_cast<size_t>(field)];
    retainSlot(out, type);
  }
  release(r.o);
  return true;
}

const Slot *FieldNode::borrow(Frame &f) {
  if (errorField) return nullptr;
  const Slot *r = base->borrow(f);
  return r ? &static_cast<Record *>(r->o)->fields[static_cast<size_t>(field)] : nullptr;
}

} // namespace cfm::interp
