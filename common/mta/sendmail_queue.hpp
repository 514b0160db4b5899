// sendmail_queue.hpp - Sendmail's queue directories on disk: which files
// are messages, reading a control file, and removing a message under
// Sendmail's own locking discipline. No parsing here (sendmail_qf_parser).
//
// Layout (Sendmail 8.17, queue.c): each queue directory holds qf<ID>
// (control) and df<ID> (body), or, when the directory has them, the
// subdirectories qf/, df/ and xf/. Several directories come from queue
// groups or from QUEUE_DIR with a `*` (/var/spool/mqueue/q*); the
// `sendmail_queue_directory` setting takes a comma- or space-separated list,
// and a `*` in a last path component is expanded.
//
// File kinds, each handled on purpose:
//   qf<ID>  a queued message                      -> listed, queue "queue"
//   hf<ID>  quarantined (sendmail -Q; never expires on its own)
//                                                 -> listed, queue "hold"
//   tf<ID>  being written by Sendmail right now   -> skipped silently
//   xf<ID>  a delivery transcript                 -> not a message; removed with it
//   Qf<ID>  set aside by Sendmail as unreadable   -> skipped with a warning
//   df<ID>  a body                                -> read through its qf
//
// Locking: Sendmail holds flock(LOCK_EX) on a qf while it works on the
// message. A control file whose shared lock cannot be had at once is busy:
// it is listed as busy (so that it does not look gone) and not acted on.
// Removal: open, flock(LOCK_EX|LOCK_NB) (busy -> error, retry next run),
// check the locked file is still the one at that path (fstat vs stat: a
// queue run may have renamed or replaced it), unlink df, then the control
// file, all while holding the lock.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/util/posix_file.hpp"
#include "common/util/result.hpp"

namespace etrn {

// The directories named by a sendmail_queue_directory setting, `*`
// expanded (sorted); a pattern matching nothing contributes nothing.
std::vector<std::string> sendmail_queue_directories(const std::string& setting);

// A Sendmail queue ID: letters and digits only (so it can never name
// another file or look like an option), 6 to 40 of them.
Result<std::string> validate_sendmail_queue_id(std::string_view id);

struct SendmailQueueFile {
  std::string queue_id;
  std::string control_path;     // .../qf<ID> or .../hf<ID>
  std::string data_path;        // .../df<ID> (may not exist)
  std::string transcript_path;  // .../xf<ID> (usually does not exist)
  bool quarantined = false;     // an hf file
};

struct SendmailControlText {
  std::string text;
  bool busy = false;  // Sendmail holds its lock
};

// A control file opened and locked exclusively, checked to be the file at
// its path when locked. Sendmail cannot work on the message while the
// descriptor is open (closing it releases the lock).
struct LockedQueueFile {
  SendmailQueueFile file;
  Fd fd;
};

class SendmailQueue {
 public:
  explicit SendmailQueue(std::vector<std::string> directories);

  // Every qf and hf file in every directory. An unreadable directory is an
  // error: the listing would not be complete.
  Status for_each_file(const std::function<void(SendmailQueueFile&&)>& visit) const;
  // The file of one message, by validated ID.
  Result<SendmailQueueFile> find(const std::string& queue_id) const;

  // The control file's text; `busy` when Sendmail holds its lock.
  static Result<SendmailControlText> read_control(const SendmailQueueFile& file);
  // Locks the control file (see the header comment); an error if busy or
  // gone (kind gone when the file is no longer there).
  static Result<LockedQueueFile> lock(const SendmailQueueFile& file);
  // The locked control file's text, read from the locked descriptor.
  static Result<std::string> read_locked(const LockedQueueFile& locked);
  // Removes a locked message: df, xf, then the control file.
  static Status remove_locked(const LockedQueueFile& locked);
  // lock, then remove_locked.
  static Status remove(const SendmailQueueFile& file);

 private:
  std::vector<std::string> directories_;
};

}  // namespace etrn
