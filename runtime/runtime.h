// runtime.h — the operations of the runtime on values (LANGUAGE.md "Built-ins", "How values
// print", "Errors", "Precise rules"), as both engines use them.
//
// Errors are values: an operation that can fail returns false after setting the pending error
// of the running task (`pendingError()`); the engine then unwinds to the nearest `catch` or ends
// the task. No C++ exception leaves the runtime.
#pragma once

#include "runtime/value.h"

#include <cstdio>
#include <string>
#include <string_view>

namespace cfm::rt {

enum class ErrKind {
#define RTERR(id, text) id,
#include "runtime/errors.def"
#undef RTERR
};
const char *errKindText(ErrKind k);

/// Sets the pending error and returns false, so that `return raise(...)` reads naturally.
[[nodiscard]] bool raise(ErrKind k, std::string message);
/// The same with `err.code` (API.md "Errors"): the EC2 error code of a "cloud" error, the
/// `unreachable`/`rejected`/`io` of an "agent" error, ...
[[nodiscard]] bool raise(ErrKind k, std::string code, std::string message);
[[nodiscard]] bool raiseUser(std::string message);
/// The catchable `stack overflow` (kind "stack") of a call that does not fit: the call depth
/// limit or the task's stack, whichever comes first. One message for both causes, so that the
/// engines (whose frames differ in size) report it identically.
[[nodiscard]] bool raiseStackOverflow();
/// The pending error, or nullptr; `takeError` hands over the reference.
ErrorVal *pendingError();
ErrorVal *takeError();
/// Makes `e` (a reference handed over) the pending error, as the scheduler does when it
/// switches tasks and `wait` when it raises a task's error again.
void raiseError(ErrorVal *e);
void clearError();
/// An uncaught error, as `cfmc run` reports it (LANGUAGE.md): takes the pending error, if any,
/// and writes `error: <message>` and one `  at <frame>` per frame, innermost first, to `err`.
/// Long traces are shortened: a frame repeated more than kTraceRepeatsShown times in a row is
/// shown that often and then `  [the frame above repeated N more times]`; of more lines than
/// 2 * kTraceEndsShown + 1, the first and last kTraceEndsShown are kept around `  [N more lines]`.
void printUncaught(FILE *err);
constexpr size_t kTraceRepeatsShown = 3;
constexpr size_t kTraceEndsShown = 50;

/// Out of memory (docs/language.md "Errors"): not catchable — a program whose allocation failed
/// cannot be trusted to handle it (its handler would allocate too). Flushes every stdio stream,
/// so that what was printed before is kept, writes `error: out of memory` to stderr and ends the
/// process with exit status 1. `installOutOfMemoryHandler` makes every failed `new` (strings,
/// lists, maps, the engines' own structures) end so instead of in std::bad_alloc and SIGABRT;
/// programs that run procedures call it first thing.
[[noreturn]] void outOfMemory();
void installOutOfMemoryHandler();

// ---- built-ins written once (builtins.cpp; both engines call these) ----
/// print(x): str(x) and a newline, written to `out`.
void printValue(FILE *out, Slot v, const TypeDesc *t);
/// now(): Unix milliseconds.
int64_t nowMs();
/// to_json(x): the compact JSON text of a value of type t.
Str *toJsonText(Slot v, const TypeDesc *t);
/// json's as_string/as_int/as_float/as_bool and len() (LANGUAGE.md "Precise rules": 1.5 is not
/// an int, an int is a float; a wrong JSON type is a "conversion" error).
enum class JsonAs : int64_t { String = 0, Int = 1, Float = 2, Bool = 3, Len = 4 };
[[nodiscard]] bool jsonAs(const Json *j, JsonAs which, Slot &out);
/// A json value's text as an error message shows it: at most kJsonPreviewBytes, then `…`.
constexpr size_t kJsonPreviewBytes = 200;
std::string jsonPreview(const Json *j);
/// Adds key: value to a json object being built (a literal): a repeated key keeps its first
/// position and takes the last value. Takes both references.
void jsonObjectSet(Json *object, Str *key, Json *value);
/// A trace line for the frame an error passes (`file:line`, once per frame), and the frame's
/// end (the next line recorded is its caller's).
void recordTraceLine(std::string_view file, int64_t line);
void frameDone();

// ---- checked arithmetic (LANGUAGE.md: overflow and division are errors) ----
[[nodiscard]] bool addInt(int64_t a, int64_t b, int64_t &out);
[[nodiscard]] bool subInt(int64_t a, int64_t b, int64_t &out);
[[nodiscard]] bool mulInt(int64_t a, int64_t b, int64_t &out);
[[nodiscard]] bool divInt(int64_t a, int64_t b, int64_t &out); // truncates toward zero
[[nodiscard]] bool modInt(int64_t a, int64_t b, int64_t &out); // sign of the dividend
[[nodiscard]] bool negInt(int64_t a, int64_t &out);
double modFloat(double a, double b); // fmod

// ---- conversions ----
[[nodiscard]] bool intOfString(std::string_view s, int64_t &out);
[[nodiscard]] bool intOfFloat(double f, int64_t &out); // truncates; nan/inf/out of range fail
[[nodiscard]] bool floatOfString(std::string_view s, double &out);

// ---- printing (`print` and `str`) ----
std::string formatFloat(double f);
std::string formatDuration(int64_t ms);
/// JSON string literal: escapes `"`, `\` and control characters, leaves other UTF-8 as is.
std::string quote(std::string_view s);
/// str(v) for a value of type t; `nested` quotes strings as inside collections.
void format(std::string &out, Slot v, const TypeDesc *t, bool nested = false);
std::string format(Slot v, const TypeDesc *t);

// ---- structural equality and ordering ----
bool equal(Slot a, Slot b, const TypeDesc *t);

// ---- strings ----
Str *concat(const Str *a, const Str *b);

// ---- json ----
Json *jsonNull();
Json *jsonBool(bool b);
Json *jsonInt(int64_t i);
Json *jsonFloat(double f);
Json *jsonString(std::string_view s);
/// to_json's conversion of a value of type t (durations as milliseconds, records as objects,
/// int map keys as strings).
Json *toJson(Slot v, const TypeDesc *t);
/// Compact JSON text (`{"a":[1,2]}`); floats as `print` writes them.
void writeJson(std::string &out, const Json *j);
[[nodiscard]] bool parseJson(std::string_view text, Json *&out);
bool jsonEqual(const Json *a, const Json *b);
[[nodiscard]] bool jsonIndexKey(const Json *j, std::string_view key, Json *&out);
[[nodiscard]] bool jsonIndexInt(const Json *j, int64_t i, Json *&out);
[[nodiscard]] bool jsonLen(const Json *j, int64_t &out);

} // namespace cfm::rt
