// store_copy.cpp - see store_copy.hpp.
#include "common/store/store_copy.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/store/sweep_store.hpp"
#include "common/util/strings.hpp"

namespace etrn {

namespace {

constexpr std::size_t kMessagesPerTransaction = 500;

using Value = std::optional<std::string>;
using Row = std::vector<Value>;

struct Table {
  std::vector<std::string> columns;  // without id
  std::vector<Row> rows;             // in id order
  std::vector<std::int64_t> ids;
};

// Every row of `table` (where `where` holds, ?1 bound to `key` if given),
// id apart, values as text (NULL kept).
Table read_table(Database& db, const std::string& table, const std::string& where = "",
                 std::optional<std::int64_t> key = std::nullopt) {
  Statement& s = db.prepare("SELECT * FROM " + table + (where.empty() ? "" : " WHERE " + where) +
                            " ORDER BY 1");
  if (key) s.bind(1, *key);
  Table out;
  const int n = s.column_count();
  const bool has_id = s.column_name(0) == "id";
  for (int i = has_id ? 1 : 0; i < n; ++i) out.columns.push_back(s.column_name(i));
  while (s.step()) {
    Row row;
    for (int i = has_id ? 1 : 0; i < n; ++i)
      row.push_back(s.column_is_null(i) ? Value() : Value(s.column_text(i)));
    out.rows.push_back(std::move(row));
    out.ids.push_back(has_id ? s.column_int(0) : 0);
  }
  s.reset();
  return out;
}

std::size_t index_of(const Table& table, const std::string& column) {
  for (std::size_t i = 0; i < table.columns.size(); ++i)
    if (table.columns[i] == column) return i;
  throw DatabaseError(0, "the store has no column " + column);
}

std::string join(const std::vector<std::string>& words, const std::string& separator) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : separator) + w;
  return out;
}

std::string placeholders(std::size_t n, std::size_t first = 1) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += (i ? ", ?" : "?") + std::to_string(first + i);
  return out;
}

Statement& bind_row(Statement& s, const Row& row, std::size_t first = 1) {
  for (std::size_t i = 0; i < row.size(); ++i) s.bind(static_cast<int>(first + i), row[i]);
  return s;
}

// INSERT of a row of `table` with the target's next id; returns it.
std::int64_t insert_row(Database& to, const std::string& table, const Table& shape,
                        const Row& row) {
  Statement& s = to.prepare_insert("INSERT INTO " + table + " (" + join(shape.columns, ", ") +
                                   ") VALUES (" + placeholders(row.size()) + ")");
  return bind_row(s, row).insert();
}

// The condition "every column equals ?1..." : `=` for the columns in
// `never_null` (an index can serve it), IS NOT DISTINCT FROM (NULL matching
// NULL) for the others.
std::string same_row(const std::vector<std::string>& columns,
                     const std::vector<std::string>& never_null) {
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const bool plain =
        std::find(never_null.begin(), never_null.end(), columns[i]) != never_null.end();
    out += (i ? " AND " : "") + columns[i] + (plain ? " = ?" : " IS NOT DISTINCT FROM ?") +
           std::to_string(i + 1);
  }
  return out;
}

std::int64_t count_where(Database& db, const std::string& table,
                         const std::vector<std::string>& columns, const Row& values,
                         const std::vector<std::string>& never_null) {
  Statement& s =
      db.prepare("SELECT count(*) FROM " + table + " WHERE " + same_row(columns, never_null));
  bind_row(s, values);
  const std::int64_t n = s.step() ? s.column_int(0) : 0;
  s.reset();
  return n;
}

class Copier {
 public:
  Copier(Database& from, Database& to, const std::string& instance,
         const std::function<void(const StoreCopy&)>& progress)
      : from_(from), to_(to), instance_(instance), progress_(progress) {}

  StoreCopy run() {
    copy_messages();
    copy_counted("events", {"at", "queue_id", "kind"});
    copy_runs();
    return counts_;
  }

 private:
  // The source's rows that name no host are the host's that copies them.
  Table read_claimed(const std::string& table, const std::string& where = "",
                     std::optional<std::int64_t> key = std::nullopt) {
    Table rows = read_table(from_, table, where, key);
    const std::size_t at = index_of(rows, "instance");
    for (Row& row : rows.rows)
      if (row[at].value_or("").empty()) row[at] = instance_;
    return rows;
  }

  void copy_messages() {
    const Table messages = read_claimed("messages");
    const std::vector<std::string> key = {"instance", "queue_id", "arrival_time", "sender"};
    std::vector<std::size_t> key_at;
    key_at.reserve(key.size());
    for (const auto& k : key) key_at.push_back(index_of(messages, k));
    for (std::size_t start = 0; start < messages.rows.size(); start += kMessagesPerTransaction) {
      Transaction t(to_);
      const std::size_t end = std::min(messages.rows.size(), start + kMessagesPerTransaction);
      for (std::size_t i = start; i < end; ++i) {
        Row key_values;
        key_values.reserve(key_at.size());
        for (std::size_t at : key_at) key_values.push_back(messages.rows[i][at]);
        if (count_where(to_, "messages", key, key_values, key) > 0) {
          ++counts_["messages"].present;
          continue;
        }
        const std::int64_t id = insert_row(to_, "messages", messages, messages.rows[i]);
        ++counts_["messages"].copied;
        copy_parts_of(messages.ids[i], id);
      }
      t.commit();
      if (progress_) progress_(counts_);
    }
  }

  // A new message's recipients, outbox rows and MTA arrival time.
  void copy_parts_of(std::int64_t old_message, std::int64_t new_message) {
    const std::string message = std::to_string(new_message);
    Table recipients = read_table(from_, "recipients", "message = ?1", old_message);
    const std::size_t recipient_message = index_of(recipients, "message");
    std::unordered_map<std::int64_t, std::int64_t> new_recipient;
    for (std::size_t i = 0; i < recipients.rows.size(); ++i) {
      recipients.rows[i][recipient_message] = message;
      new_recipient[recipients.ids[i]] =
          insert_row(to_, "recipients", recipients, recipients.rows[i]);
      ++counts_["recipients"].copied;
    }
    Table outbox = read_claimed("outbox", "message = ?1", old_message);
    const std::size_t outbox_message = index_of(outbox, "message");
    const std::size_t outbox_recipients = index_of(outbox, "recipient_ids");
    for (Row& row : outbox.rows) {
      row[outbox_message] = message;
      std::string ids;
      for (const std::string& old : split_list(row[outbox_recipients].value_or(""), ','))
        ids += (ids.empty() ? "" : ",") + std::to_string(new_recipient.at(std::stoll(old)));
      row[outbox_recipients] = ids;
      Statement& s = to_.prepare("INSERT INTO outbox (id, " + join(outbox.columns, ", ") +
                                 ") VALUES (" + placeholders(row.size() + 1) + ")");
      s.bind(1, next_outbox_id(to_));
      bind_row(s, row, 2).run();
      ++counts_["outbox"].copied;
    }
    Table arrival = read_table(from_, "mta_arrivals", "message = ?1", old_message);
    for (Row& row : arrival.rows) {
      row[index_of(arrival, "message")] = message;
      Statement& s = to_.prepare("INSERT INTO mta_arrivals (" + join(arrival.columns, ", ") +
                                 ") VALUES (" + placeholders(row.size()) + ")");
      bind_row(s, row).run();
      ++counts_["mta_arrivals"].copied;
    }
  }

  // Rows identified by all their columns: as many copies as the source has.
  void copy_counted(const std::string& table, const std::vector<std::string>& never_null) {
    const Table rows = read_claimed(table);
    std::map<Row, std::int64_t> wanted;
    for (const Row& row : rows.rows) ++wanted[row];
    Transaction t(to_);
    for (const auto& [row, n] : wanted) {
      const std::int64_t there = count_where(to_, table, rows.columns, row, never_null);
      for (std::int64_t i = there; i < n; ++i) insert_row(to_, table, rows, row);
      counts_[table].copied += std::max<std::int64_t>(0, n - there);
      counts_[table].present += std::min(n, there);
    }
    t.commit();
    if (progress_) progress_(counts_);
  }

  void copy_runs() {
    const Table runs = read_claimed("runs");
    const std::vector<std::string> key = {"started_at", "acted_as", "finished_at"};
    Transaction t(to_);
    for (const Row& row : runs.rows) {
      Row key_values;
      for (const auto& k : key) key_values.push_back(row[index_of(runs, k)]);
      if (count_where(to_, "runs", key, key_values, {"started_at", "acted_as"}) > 0) {
        ++counts_["runs"].present;
        continue;
      }
      insert_row(to_, "runs", runs, row);
      ++counts_["runs"].copied;
    }
    t.commit();
    if (progress_) progress_(counts_);
  }

  Database& from_;
  Database& to_;
  const std::string& instance_;
  const std::function<void(const StoreCopy&)>& progress_;
  StoreCopy counts_;
};

}  // namespace

StoreCopy copy_store(Database& from, Database& to, const std::string& instance,
                     const std::function<void(const StoreCopy&)>& progress) {
  // A prepared statement's generic plan, made while a table looked empty,
  // scans the whole table for each row looked up: quadratic in a copy
  // that fills it (100k events: not done after 10 minutes). Plan each.
  if (to.engine() == SqlEngine::postgresql) to.exec("SET plan_cache_mode = force_custom_plan");
  return Copier(from, to, instance, progress).run();
}

}  // namespace etrn
