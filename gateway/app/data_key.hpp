#pragma once
// The data key for sealing personal data, from the config's privacy
// section: the inline/environment key, else the key file (created with
// mode 0600 on first start, with a warning to back it up).
#include <stdexcept>

#include "app/config.hpp"
#include "common/sealing.hpp"

namespace gw::app {

// Throws std::runtime_error when there is no usable key.
data_sealer load_data_sealer(const privacy_config& c);

}  // namespace gw::app
