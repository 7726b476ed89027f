// events.cpp — the store's cloud events (store.h, "Cloud events"; API.md "Cloud events"): the
// history of every followed system's events, each stored once per (system, source, seq), and the
// outbox of this manager's own events until the broker acknowledges them. The federation
// (runtime/fed) drains the outbox and stores what it receives; the event built-ins publish and
// read through the same methods.
#include "runtime/store/store.h"

namespace cfm::store {

namespace {

constexpr const char *kColumns = "id, system, source, seq, name, data, published_at, received_at";

Store::CloudEventRow rowOf(const Stmt &s) {
  Store::CloudEventRow r;
  r.id = s.i64(0);
  r.system = s.text(1);
  r.source = s.text(2);
  r.seq = s.i64(3);
  r.name = s.text(4);
  r.dataJson = s.text(5);
  r.publishedAt = s.i64(6);
  r.receivedAt = s.i64(7);
  return r;
}

Result<std::vector<Store::CloudEventRow>> collect(Stmt &s) {
  std::vector<Store::CloudEventRow> out;
  while (CFM_TRY(s.step())) out.push_back(rowOf(s));
  return out;
}

/// Inserts EV unless (system, source, seq) is stored: its arrival order, 0 for a duplicate.
Result<int64_t> insertEvent(Db &db, const Store::CloudEventRow &ev) {
  Stmt s =
      CFM_TRY(db.prepare("INSERT INTO cloud_event (system, source, seq, name, data, published_at, "
                         "received_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id"));
  s.bind(1, ev.system).bind(2, ev.source).bind(3, ev.seq).bind(4, ev.name);
  s.bind(5, ev.dataJson.empty() ? std::string("null") : ev.dataJson);
  s.bind(6, ev.publishedAt).bind(7, ev.receivedAt);
  if (!CFM_TRY(s.step())) return 0; // a duplicate: nothing inserted, no row returned
  int64_t id = s.i64(0);
  CFM_CHECK(s.run());
  return id;
}

} // namespace

Result<Store::CloudEventRow> Store::publishEvent(std::string_view system, std::string_view source,
                                                 std::string_view name, std::string_view dataJson,
                                                 int64_t nowMs) {
  if (system.empty() || source.empty() || name.empty())
    return Error{ErrorKind::Store, "an event needs a system, a source and a name"};
  auto tx = CFM_TRY(Tx::begin(*db_));
  CloudEventRow ev;
  ev.system = std::string(system);
  ev.source = std::string(source);
  ev.name = std::string(name);
  ev.dataJson = std::string(dataJson);
  ev.publishedAt = ev.receivedAt = nowMs;
  {
    Stmt s = CFM_TRY(
        db_->prepare("SELECT coalesce(max(seq), 0) FROM cloud_event WHERE system = ? AND source = ?"));
    s.bind(1, ev.system).bind(2, ev.source);
    CFM_CHECK(s.step());
    ev.seq = s.i64(0) + 1;
  }
  ev.id = CFM_TRY(insertEvent(*db_, ev));
  if (ev.id == 0) return Error{ErrorKind::Store, "event seq " + std::to_string(ev.seq) + " stored twice"};
  Stmt o = CFM_TRY(db_->prepare("INSERT INTO event_outbox (event_id) VALUES (?)"));
  o.bind(1, ev.id);
  CFM_CHECK(o.run());
  CFM_CHECK(tx->commit());
  if (ev.dataJson.empty()) ev.dataJson = "null";
  return ev;
}

Result<bool> Store::receiveEvent(CloudEventRow &ev) {
  if (ev.system.empty() || ev.source.empty() || ev.name.empty() || ev.seq < 1)
    return Error{ErrorKind::Store, "an event needs a system, a source, a name and a seq from 1"};
  int64_t id = CFM_TRY(insertEvent(*db_, ev));
  if (id == 0) return false;
  ev.id = id;
  if (ev.dataJson.empty()) ev.dataJson = "null";
  return true;
}

Result<size_t> Store::receiveEvents(std::vector<CloudEventRow> &evs, std::vector<bool> &fresh) {
  fresh.assign(evs.size(), false);
  auto tx = CFM_TRY(Tx::begin(*db_));
  size_t n = 0;
  for (size_t i = 0; i < evs.size(); ++i) {
    bool f = CFM_TRY(receiveEvent(evs[i]));
    fresh[i] = f;
    n += f;
  }
  CFM_CHECK(tx->commit());
  return n;
}

Result<std::vector<Store::CloudEventRow>> Store::eventsAfter(int64_t afterId, std::string_view system,
                                                             std::string_view name, size_t limit) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM cloud_event WHERE id > ?";
  if (!system.empty()) sql += " AND system = ?";
  if (!name.empty()) sql += " AND name = ?";
  sql += " ORDER BY id LIMIT ?";
  Stmt s = CFM_TRY(db_->prepare(sql));
  int i = 1;
  s.bind(i++, afterId);
  if (!system.empty()) s.bind(i++, std::string(system));
  if (!name.empty()) s.bind(i++, std::string(name));
  s.bind(i, static_cast<int64_t>(limit));
  return collect(s);
}

Result<int64_t> Store::lastEventId() {
  Stmt s = CFM_TRY(db_->prepare("SELECT coalesce(max(id), 0) FROM cloud_event"));
  CFM_CHECK(s.step());
  return s.i64(0);
}

Result<std::vector<Store::CloudEventRow>>
Store::eventsOfSource(std::string_view system, std::string_view source, int64_t fromSeq, int64_t toSeq) {
  Stmt s = CFM_TRY(db_->prepare(std::string("SELECT ") + kColumns +
                                " FROM cloud_event WHERE system = ? AND source = ? AND seq BETWEEN ? AND ? "
                                "ORDER BY seq"));
  s.bind(1, std::string(system)).bind(2, std::string(source)).bind(3, fromSeq).bind(4, toSeq);
  return collect(s);
}

Result<Store::SeqState> Store::seqState(std::string_view system, std::string_view source) {
  SeqState st;
  Stmt h =
      CFM_TRY(db_->prepare("SELECT coalesce(max(seq), 0), count(*) FROM cloud_event WHERE system = ? AND "
                           "source = ?"));
  h.bind(1, std::string(system)).bind(2, std::string(source));
  CFM_CHECK(h.step());
  st.highest = h.i64(0);
  if (h.i64(1) == st.highest) { // seqs start at 1 and are unique: no gap
    st.contiguous = st.highest;
    return st;
  }
  // The first stored seq whose successor is missing ends the contiguous run, when 1 is there.
  Stmt g = CFM_TRY(db_->prepare(
      "SELECT CASE WHEN EXISTS (SELECT 1 FROM cloud_event WHERE system = ?1 AND source = ?2 AND seq = 1) "
      "THEN (SELECT min(e.seq) FROM cloud_event e WHERE e.system = ?1 AND e.source = ?2 AND NOT EXISTS "
      "(SELECT 1 FROM cloud_event n WHERE n.system = ?1 AND n.source = ?2 AND n.seq = e.seq + 1)) ELSE 0 "
      "END"));
  g.bind(1, std::string(system)).bind(2, std::string(source));
  CFM_CHECK(g.step());
  st.contiguous = g.i64(0);
  return st;
}

Result<std::vector<Store::CloudEventRow>> Store::outbox(size_t limit) {
  Stmt s = CFM_TRY(db_->prepare("SELECT e.id, e.system, e.source, e.seq, e.name, e.data, e.published_at, "
                                "e.received_at FROM event_outbox o JOIN cloud_event e ON e.id = o.event_id "
                                "ORDER BY o.event_id LIMIT ?"));
  s.bind(1, static_cast<int64_t>(limit));
  return collect(s);
}

Result<int64_t> Store::outboxSize() {
  Stmt s = CFM_TRY(db_->prepare("SELECT count(*) FROM event_outbox"));
  CFM_CHECK(s.step());
  return s.i64(0);
}

Result<void> Store::markSent(int64_t eventId) { return markSent(std::vector<int64_t>{eventId}); }

Result<void> Store::markSent(const std::vector<int64_t> &eventIds) {
  if (eventIds.empty()) return success();
  auto tx = CFM_TRY(Tx::begin(*db_));
  for (int64_t id : eventIds) {
    Stmt s = CFM_TRY(db_->prepare("DELETE FROM event_outbox WHERE event_id = ?"));
    s.bind(1, id);
    CFM_CHECK(s.run());
  }
  return tx->commit();
}

Result<int64_t> Store::highestSentSeq(std::string_view system, std::string_view source) {
  // The outbox's oldest event of the series, less one; the series' last when it is all sent.
  Stmt s = CFM_TRY(db_->prepare(
      "SELECT coalesce((SELECT min(e.seq) - 1 FROM event_outbox o JOIN cloud_event e ON e.id = o.event_id "
      "WHERE e.system = ?1 AND e.source = ?2), (SELECT coalesce(max(seq), 0) FROM cloud_event WHERE "
      "system = ?1 AND source = ?2))"));
  s.bind(1, std::string(system)).bind(2, std::string(source));
  CFM_CHECK(s.step());
  return s.i64(0);
}

Result<std::vector<std::string>> Store::eventSystemsOfSource(std::string_view source) {
  Stmt s = CFM_TRY(db_->prepare("SELECT DISTINCT system FROM cloud_event WHERE source = ? ORDER BY system"));
  s.bind(1, std::string(source));
  std::vector<std::string> out;
  while (CFM_TRY(s.step())) out.push_back(s.text(0));
  return out;
}

} // namespace cfm::store
