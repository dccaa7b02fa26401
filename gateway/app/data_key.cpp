#include "app/data_key.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/log.hpp"
#include "common/text.hpp"

namespace gw::app {

data_sealer load_data_sealer(const privacy_config& c) {
    std::string hex = c.data_key;
    if (hex.empty()) {
        if (c.data_key_file.empty()) throw std::runtime_error("no data key configured");
        namespace fs = std::filesystem;
        if (!fs::exists(c.data_key_file)) {
            // Like the database's folder: the gateway's own user only.
            if (const auto dir = fs::path(c.data_key_file).parent_path();
                !dir.empty() && !fs::exists(dir)) {
                fs::create_directories(dir);
                fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
            }
            int fd = ::open(c.data_key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
            if (fd < 0)
                throw std::runtime_error("cannot create the data key file " + c.data_key_file);
            const std::string key = data_sealer::generate_hex_key() + "\n";
            const bool written =
                ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size());
            ::fsync(fd);
            ::close(fd);
            if (!written)
                throw std::runtime_error("cannot write the data key file " + c.data_key_file);
            spdlog::warn(
                "privacy: created a new data key in {}; back it up and keep it apart "
                "from the database (or set the key through the environment)",
                c.data_key_file);
        }
        std::ifstream in(c.data_key_file);
        std::getline(in, hex);
        if (!in && hex.empty())
            throw std::runtime_error("cannot read the data key file " + c.data_key_file);
    }
    auto sealer = data_sealer::from_hex(trim(hex));
    if (!sealer) throw std::runtime_error("privacy: " + sealer.error());
    return *sealer;
}

}  // namespace gw::app
