// postsuper_output_fuzz.cpp - what `postsuper -d - hold` prints (PostfixMta::
// remove_held, through a CommandRunner that plays the input back as the
// program's output). The sweeper counts a message as removed only when
// postsuper says "postsuper: ID: removed"; it then sends the failure DSN.
//
// Input: the first line holds the queue IDs to remove (separated by
// spaces), the rest is postsuper's output.
// Property: one status per ID, and an ID counts as removed exactly when it
// is a valid queue ID and a whole line of the output is
// "postsuper: ID: removed". Any other line ("postsuper: removed" among
// them) removes nothing.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/mta/postfix_mta.hpp"
#include "common/mta/postfix_queue_id.hpp"
#include "common/util/strings.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using etrn::fuzz::lines_of;

class PlaybackRunner : public etrn::CommandRunner {
 public:
  explicit PlaybackRunner(std::string_view output) : output_(output) {}
  etrn::Result<etrn::CommandResult> run(const etrn::CommandSpec&,
                                        const etrn::LineSink& sink) override {
    for (const std::string_view line : lines_of(output_)) sink(line);
    etrn::CommandResult result;
    result.exit_status = 0;
    return result;
  }
  etrn::Result<std::unique_ptr<etrn::InteractiveProcess>> start(const etrn::CommandSpec&) override {
    return etrn::make_error("not used");
  }

 private:
  std::string_view output_;
};

bool says_removed(std::string_view output, const std::string& id) {
  const std::string wanted = "postsuper: " + id + ": removed";
  for (const std::string_view line : lines_of(output)) {
    if (line == wanted) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = etrn::fuzz::as_text(data, size);
  const auto nl = input.find('\n');
  const std::string_view first_line = input.substr(0, nl);
  const std::string_view output = nl == std::string_view::npos ? "" : input.substr(nl + 1);
  std::vector<std::string> ids;
  for (const std::string_view id : etrn::split_list(first_line, ' ')) ids.emplace_back(id);
  if (ids.empty() || ids.size() > 16) return 0;

  etrn::PostfixMta mta(etrn::PostfixCommands{"/etc/postfix", "/usr/sbin"},
                       std::make_shared<PlaybackRunner>(output));
  const std::vector<etrn::Status> statuses = mta.remove_held(ids);
  FUZZ_CHECK(statuses.size() == ids.size(), "one status per queue ID");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const bool removed = etrn::is_postfix_queue_id(ids[i]) && says_removed(output, ids[i]);
    FUZZ_CHECK(statuses[i].ok() == removed,
               "removed exactly when postsuper printed \"postsuper: ID: removed\"");
  }
  return 0;
}
