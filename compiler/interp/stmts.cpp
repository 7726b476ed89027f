// stmts.cpp — statement nodes and assignable places of the interpreter (LANGUAGE.md
// "Statements", "Precise rules": `P op= e` evaluates P's indexes once; lists, maps and records
// are values, so a place is made unique before it is changed).
#include "interp/exprs.h"
#include "runtime/sched/scheduler.h"

#include <charconv>

namespace cfm::interp {

using namespace rt;

namespace {
void store(Slot &dst, Slot v, const TypeDesc *t) {
  releaseSlot(dst, t);
  dst = v;
}
} // namespace

bool resolvePlace(Frame &f, Place &p, std::vector<Slot> &keys, Slot *&slot, bool create) {
  Slot *cur = &f.slots[p.rootSlot];
  for (size_t i = 0; i < p.parts.size(); ++i) {
    Place::Part &part = p.parts[i];
    Obj *o = unique(*cur);
    bool last = i + 1 == p.parts.size();
    switch (part.step) {
    case Place::Step::ListIndex: {
      List *l = static_cast<List *>(o);
      int64_t idx = keys[i].i;
      if (idx < 0 || idx >= static_cast<int64_t>(l->items.size())) {
        (void)raise(ErrKind::Index, "index " + std::to_string(idx) + " out of range (length " +
                                        std::to_string(l->items.size()) + ")");
        return failAt(f, part.loc);
      }
      cur = &l->items[static_cast<size_t>(idx)];
      break;
    }
    case Place::Step::MapKey:
      cur = mapPlaceAgain(static_cast<Map *>(o), keys[i], last && create); // null: the key error
      if (!cur) return failAt(f, part.loc);
      break;
    case Place::Step::Field: cur = &static_cast<Record *>(o)->fields[static_cast<size_t>(part.field)]; break;
    }
  }
  slot = cur;
  return true;
}

Flow LetNode::exec(Frame &f) {
  Slot v;
  if (!init->eval(f, v)) return Flow::Error;
  store(f.slots[slot], v, type);
  return Flow::Normal;
}

Flow AssignNode::exec(Frame &f) {
  Place &p = *target;
  if (p.parts.empty()) { // a local variable: no indexes, nothing to make unique
    Slot v;
    if (!value->eval(f, v)) return Flow::Error;
    if (compound) {
      Slot &dst = f.slots[p.rootSlot], result;
      bool ok = BinaryNode::apply(static_cast<BinaryNode::Op>(op), dst, v, p.type, result);
      releaseSlot(v, value->type);
      if (!ok) {
        failAt(f, loc);
        return Flow::Error;
      }
      v = result;
    }
    store(f.slots[p.rootSlot], v, p.type);
    return Flow::Normal;
  }
  // The place's indexes first (once), then the value, then the path (making it unique).
  PlaceKeys keys(p);
  if (!keys.eval(f)) return Flow::Error;
  Slot v;
  if (!value->eval(f, v)) return Flow::Error;
  HeldSlot held(value->type, v);
  Slot *slot = nullptr;
  if (!resolvePlace(f, p, keys.keys(), slot, !compound)) return Flow::Error;
  if (compound) {
    Slot result;
    if (!BinaryNode::apply(static_cast<BinaryNode::Op>(op), *slot, v, p.type, result)) {
      failAt(f, loc);
      return Flow::Error;
    }
    store(*slot, result, p.type);
    return Flow::Normal;
  }
  store(*slot, held.take(), p.type);
  return Flow::Normal;
}

Flow ExprStmtNode::exec(Frame &f) {
  Slot v;
  if (!expr->eval(f, v)) return Flow::Error;
  releaseSlot(v, expr->type);
  return Flow::Normal;
}

Flow IfNode::exec(Frame &f) {
  for (auto &[cond, body] : branches) {
    Slot c;
    if (!cond->eval(f, c)) return Flow::Error;
    if (c.i) return body.run(f);
  }
  return elseBody.run(f);
}

Flow WhileNode::exec(Frame &f) {
  while (true) {
    Slot c;
    if (!cond->eval(f, c)) return Flow::Error;
    if (!c.i) return Flow::Normal;
    Flow fl = body.run(f);
    if (fl == Flow::Break) return Flow::Normal;
    if (fl == Flow::Return || fl == Flow::Error) return fl;
  }
}

Flow ForNode::exec(Frame &f) {
  Slot it;
  if (!iter->eval(f, it)) return Flow::Error;
  if (form == ast::ForForm::Range) {
    Slot e;
    if (!end->eval(f, e)) return Flow::Error;
    for (int64_t i = it.i; i < e.i; ++i) {
      f.slots[slot1].i = i;
      Flow fl = body.run(f);
      if (fl == Flow::Break) break;
      if (fl == Flow::Return || fl == Flow::Error) return fl;
    }
    return Flow::Normal;
  }
  // The loop runs over the collection as it was when the loop started: we hold a reference,
  // and a change to the variable in the body copies it (copy on write).
  Flow result = Flow::Normal;
  if (form == ast::ForForm::List) {
    List *l = static_cast<List *>(it.o);
    for (Slot x : l->items) {
      retainSlot(x, t1);
      store(f.slots[slot1], x, t1);
      Flow fl = body.run(f);
      if (fl == Flow::Break) break;
      if (fl == Flow::Return || fl == Flow::Error) {
        result = fl;
        break;
      }
    }
  } else {
    Map *m = static_cast<Map *>(it.o);
    for (size_t i = 0; i < m->entries.size(); ++i) {
      const Map::Entry e = m->entries[i];
      if (!e.live) continue;
      retainSlot(e.key, t1);
      store(f.slots[slot1], e.key, t1);
      retainSlot(e.value, t2);
      store(f.slots[slot2], e.value, t2);
      Flow fl = body.run(f);
      if (fl == Flow::Break) break;
      if (fl == Flow::Return || fl == Flow::Error) {
        result = fl;
        break;
      }
    }
  }
  release(it.o);
  return result;
}

Flow ReturnNode::exec(Frame &f) {
  if (value) {
    Slot v;
    if (!value->eval(f, v)) return Flow::Error;
    f.ret = v;
  }
  return Flow::Return;
}

Flow ThrowNode::exec(Frame &f) {
  Slot v;
  if (!value->eval(f, v)) return Flow::Error;
  std::string msg(static_cast<Str *>(v.o)->view());
  release(v.o);
  (void)raiseUser(msg);
  failAt(f, loc);
  return Flow::Error;
}

Flow TryNode::exec(Frame &f) {
  Flow fl = body.run(f);
  if (fl != Flow::Error) return fl;
  if (sched::cancelling()) return fl; // a cancelled task unwinds to its end
  ErrorVal *e = takeError();
  Slot &s = f.slots[errSlot];
  release(s.o);
  s.o = e;
  return handler.run(f);
}

namespace {
void appendInt(std::string &out, int64_t i) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void appendText(std::string &out, Slot v, const TypeDesc *t) {
  if (t->kind == Kind::String) {
    out += static_cast<const Str *>(v.o)->view();
  } else if (t->kind == Kind::Int) {
    appendInt(out, v.i);
  } else {
    format(out, v, t);
  }
}

/// `{{ expr }}`: EXPR's text appended to the template's output.
Flow insert(Frame &f, ENode &expr) {
  if (const Slot *b = expr.borrow(f)) {
    appendText(*f.tplOut, *b, expr.type);
    return Flow::Normal;
  }
  Slot v;
  if (!expr.eval(f, v)) return Flow::Error;
  appendText(*f.tplOut, v, expr.type);
  releaseSlot(v, expr.type);
  return Flow::Normal;
}

} // namespace

Flow TplRunNode::exec(Frame &f) {
  std::string &out = *f.tplOut;
  for (Piece &p : pieces) {
    switch (p.op) {
    case Op::Text: out += p.text; break;
    case Op::LocalStr: out += static_cast<const Str *>(f.slots[p.slot].o)->view(); break;
    case Op::LocalInt: appendInt(out, f.slots[p.slot].i); break;
    case Op::FieldStr:
      out += static_cast<const Str *>(
                 static_cast<const Record *>(f.slots[p.slot].o)->fields[static_cast<size_t>(p.field)].o)
                 ->view();
      break;
    case Op::FieldInt:
      appendInt(out, static_cast<const Record *>(f.slots[p.slot].o)->fields[static_cast<size_t>(p.field)].i);
      break;
    case Op::Expr:
      if (insert(f, *p.expr) == Flow::Error) return Flow::Error;
      break;
    }
  }
  return Flow::Normal;
}

} // namespace cfm::interp
