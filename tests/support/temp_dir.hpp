#pragma once
// A directory removed with everything in it when the test ends.
#include <filesystem>
#include <string>

namespace gw::test {

class temp_dir {
  public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    // Writes `content` to `name` (creating folders) and returns the full path.
    std::string write(const std::string& name, const std::string& content) const;

  private:
    std::filesystem::path path_;
};

// Path of a file in the source tree (e.g. "menus").
std::string source_path(const std::string& relative);

// The USSD callback secret in test configs, and the callback path carrying it.
inline constexpr const char* ussd_token = "test-ussd-token";
inline constexpr const char* ussd_path = "/ussd/africastalking?token=test-ussd-token";

// A config file for tests: shipped menus (unless `menus` is given), the
// SQLite file inside `dir`, port 0, the USSD token above (unless `extra`
// has a ussd section), and any extra YAML appended.
std::string write_test_config(const temp_dir& dir, const std::string& extra = "",
                              const std::string& menus = "");

}  // namespace gw::test
