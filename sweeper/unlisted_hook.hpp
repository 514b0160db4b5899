// unlisted_hook.hpp - a test hook: the queue IDs named in the environment
// variable ETRN_SWEEPER_TEST_UNLISTED (comma-separated) are left out of the
// sweep's first queue listing, as a listing that ran while they moved
// between queues would leave them out; those in
// ETRN_SWEEPER_TEST_UNLISTED_TWICE are left out of the second look too, as
// if they had left the queue. Tests use it to show that one missed listing
// departs nothing and that a message missed twice is reopened when it
// shows up again. Unset in production; it has no other effect.
#pragma once

#include <string_view>

namespace etrn {

enum class QueueLook { listing, second_look };

bool unlisted_by_test_hook(std::string_view queue_id, QueueLook look);

}  // namespace etrn
