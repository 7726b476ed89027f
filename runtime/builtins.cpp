// builtins.cpp — the built-ins whose whole meaning is a few lines (LANGUAGE.md "Built-ins every
// program has"), written once: both engines call these — the interpreter directly, JIT'd code
// through the ABI (abi.cpp only converts and forwards) — so the two cannot drift apart.
#include "runtime/collections.h"
#include "runtime/runtime.h"

#include <chrono>

namespace cfm::rt {

void printValue(FILE *out, Slot v, const TypeDesc *t) {
  std::string s;
  format(s, v, t);
  s += '\n';
  fwrite(s.data(), 1, s.size(), out);
}

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Str *toJsonText(Slot v, const TypeDesc *t) {
  Json *j = t->kind == Kind::Json ? (retain(v.o), static_cast<Json *>(v.o)) : toJson(v, t);
  std::string s;
  writeJson(s, j);
  release(j);
  return newStr(s);
}

std::string jsonPreview(const Json *j) {
  std::string text;
  writeJson(text, j);
  if (text.size() > kJsonPreviewBytes) {
    size_t cut = kJsonPreviewBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut; // whole characters
    text.resize(cut);
    text += "…";
  }
  return text;
}

bool jsonAs(const Json *j, JsonAs which, Slot &out) {
  auto wrong = [&](const char *to) {
    return raise(ErrKind::Conversion, "cannot convert json " + jsonPreview(j) + " to " + to);
  };
  switch (which) {
  case JsonAs::String:
    if (j->j != Json::J::String) return wrong("string");
    retain(j->s);
    out.o = j->s;
    return true;
  case JsonAs::Int:
    if (j->j != Json::J::Int) return wrong("int"); // including 1.5 (LANGUAGE.md)
    out.i = j->i;
    return true;
  case JsonAs::Float:
    if (j->j == Json::J::Float)
      out.f = j->f;
    else if (j->j == Json::J::Int)
      out.f = static_cast<double>(j->i);
    else
      return wrong("float");
    return true;
  case JsonAs::Bool:
    if (j->j != Json::J::Bool) return wrong("bool");
    out.i = j->b;
    return true;
  case JsonAs::Len: return jsonLen(j, out.i);
  }
  return wrong("?");
}

void jsonObjectSet(Json *object, Str *key, Json *value) {
  // docs/language.md: a repeated key keeps its first position and takes the last value.
  size_t i = 0;
  while (i < object->keys.size() && object->keys[i]->view() != key->view()) ++i;
  if (i < object->keys.size()) {
    release(key);
    release(object->items[i]);
    object->items[i] = value;
  } else {
    object->keys.push_back(key);
    object->items.push_back(value);
  }
}

bool strContains(const Str *s, const Str *part) {
  return s->view().find(part->view()) != std::string_view::npos;
}

bool strStartsWith(const Str *s, const Str *prefix) { return s->view().starts_with(prefix->view()); }

bool strEndsWith(const Str *s, const Str *suffix) { return s->view().ends_with(suffix->view()); }

void recordTraceLine(std::string_view file, int64_t line) {
  ErrorVal *e = pendingError();
  if (e && !e->lineRecorded) {
    e->trace.push_back(std::string(file) + ":" + std::to_string(line));
    e->lineRecorded = true;
  }
}

void frameDone() {
  if (ErrorVal *e = pendingError()) e->lineRecorded = false;
}

} // namespace cfm::rt
