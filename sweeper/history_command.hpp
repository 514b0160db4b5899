// history_command.hpp - `history QID|ADDRESS|MESSAGE-ID`: one message's
// whole story, like grepping the mail log for it: each message row (the
// original and the copies splits re-injected under new queue IDs) with its
// recipients and their states, then every event of those queue IDs in time
// order, times in UTC; each message names its host, and each event too when
// the story is on several. --instance keeps one host's (every host's by
// default). Envelope data is made printable. Exit 0 when
// something was found, 1 (like grep) when nothing was, 64 for an argument
// that is none of the three.
#pragma once

#include <ostream>

#include "common/config/config.hpp"
#include "common/model/message_story.hpp"
#include "sweeper/options.hpp"

namespace etrn {

inline constexpr int kExitNothingFound = 1;

// "2026-12-01 09:00:00 UTC" (pure).
std::string readable_utc(EpochSeconds t);
void print_history(std::ostream& out, const MessageStory& story);
void print_history_json(std::ostream& out, const MessageStory& story);

int run_history(const Config& config, const Options& options);

}  // namespace etrn
