// postqueue_json_properties.hpp - the document reader the postqueue_json
// target checks parse_postqueue_json_line against (see the .cpp).
#pragma once

#include <string_view>

#include "common/model/queued_message.hpp"
#include "common/util/result.hpp"

namespace etrn {

Result<QueuedMessage> reference_postqueue_json_line(std::string_view line);

}  // namespace etrn
