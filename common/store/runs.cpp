// runs.cpp - the runs table and the monitoring counts (see runs.hpp).
#include "common/store/runs.hpp"

namespace etrn {

namespace {

RunRow read_run(const Statement& s) {
  RunRow r;
  r.id = s.column_int(0);
  r.started_at = s.column_int(1);
  r.acted_as = s.column_int(2);
  if (!s.column_is_null(3)) r.finished_at = s.column_int(3);
  if (!s.column_is_null(4)) r.exit_status = static_cast<int>(s.column_int(4));
  RunCounts& c = r.counts;
  int column = 5;
  for (int* count : {&c.departed, &c.adopted, &c.warned, &c.expired, &c.dsns_sent, &c.removed,
                     &c.split, &c.errors, &c.need_a_person})
    *count = static_cast<int>(s.column_int(column++));
  r.error = s.column_text(column);
  return r;
}

constexpr const char* kRunColumns =
    "SELECT id, started_at, acted_as, finished_at, exit_status, departed, adopted, warned,"
    " expired, dsns_sent, removed, split, errors, need_a_person, error FROM runs";

// This host's rows (and those that name none), ?1 its instance.
constexpr const char* kThisInstance = " WHERE instance IN (?1, '')";

// A count of this host's rows: ?1 is bound to its instance, ?2 to `bound`.
std::int64_t count_of(Database& db, const char* sql, std::optional<EpochSeconds> bound = {}) {
  Statement& s = db.prepare(sql);
  s.bind(1, db.instance());
  if (bound) s.bind(2, *bound);
  const std::int64_t n = s.step() ? s.column_int(0) : 0;
  s.reset();
  return n;
}

}  // namespace

std::int64_t begin_run(Database& db, EpochSeconds started_at, EpochSeconds acted_as) {
  return db.prepare_insert("INSERT INTO runs (started_at, acted_as, instance) VALUES (?1, ?2, ?3)")
      .bind(1, started_at)
      .bind(2, acted_as)
      .bind(3, db.instance())
      .insert();
}

void finish_run(Database& db, std::int64_t id, EpochSeconds finished_at, int exit_status,
                const RunCounts& c, const std::string& error) {
  Statement& s = db.prepare(
      "UPDATE runs SET finished_at = ?2, exit_status = ?3, departed = ?4, adopted = ?5,"
      " warned = ?6, expired = ?7, dsns_sent = ?8, removed = ?9, split = ?10, errors = ?11,"
      " need_a_person = ?12, error = ?13 WHERE id = ?1");
  s.bind(1, id).bind(2, finished_at).bind(3, std::int64_t{exit_status});
  int index = 4;
  for (int count : {c.departed, c.adopted, c.warned, c.expired, c.dsns_sent, c.removed, c.split,
                    c.errors, c.need_a_person})
    s.bind(index++, std::int64_t{count});
  s.bind(13, error.empty() ? std::optional<std::string>() : std::optional<std::string>(error));
  s.run();
}

std::vector<RunRow> recent_runs(Database& db, int limit) {
  Statement& s =
      db.prepare(std::string(kRunColumns) + kThisInstance + " ORDER BY id DESC LIMIT ?2");
  s.bind(1, db.instance()).bind(2, std::int64_t{limit});
  std::vector<RunRow> rows;
  while (s.step()) rows.push_back(read_run(s));
  return rows;
}

std::vector<std::string> run_instances(Database& db) {
  Statement& s = db.prepare("SELECT DISTINCT instance FROM runs ORDER BY instance");
  std::vector<std::string> names;
  while (s.step()) names.push_back(s.column_text(0));
  // '' rows count as every host's (kThisInstance): a host of their own only alone.
  if (names.size() > 1 && names.front().empty()) names.erase(names.begin());
  return names;
}

std::optional<RunRow> last_successful_run(Database& db) {
  Statement& s = db.prepare(std::string(kRunColumns) + kThisInstance +
                            " AND exit_status IN (0, 1) ORDER BY id DESC LIMIT 1");
  s.bind(1, db.instance());
  std::optional<RunRow> row;
  if (s.step()) row = read_run(s);
  s.reset();
  return row;
}

RecordCounts record_counts(Database& db, EpochSeconds overdue_before) {
  RecordCounts counts;
  Statement& by_state = db.prepare(
      "SELECT r.domain, r.state, count(*) FROM recipients AS r JOIN messages AS m"
      " ON m.id = r.message WHERE m.instance IN (?1, '') GROUP BY r.domain, r.state");
  by_state.bind(1, db.instance());
  while (by_state.step())
    counts.recipients[{by_state.column_text(0), by_state.column_text(1)}] = by_state.column_int(2);
  counts.outbox_backlog =
      count_of(db,
               "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND closed_at IS NULL"
               " AND instance IN (?1, '')");
  counts.overdue = count_of(db,
                            "SELECT count(*) FROM recipients AS r JOIN messages AS m"
                            " ON m.id = r.message WHERE r.state IN ('queued', 'warned')"
                            " AND r.expires_at < ?2 AND m.instance IN (?1, '')",
                            overdue_before);
  Statement& sent = db.prepare(
      "SELECT kind, count(*) FROM outbox WHERE sent_at IS NOT NULL AND instance IN (?1, '')"
      " GROUP BY kind");
  sent.bind(1, db.instance());
  while (sent.step()) counts.dsns_sent[sent.column_text(0)] = sent.column_int(1);
  return counts;
}

}  // namespace etrn
