#include "app/config.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

namespace gw::app {
namespace {

namespace fs = std::filesystem;

class section_reader {
public:
    section_reader(const YAML::Node& node, std::string name, const std::string& file,
                   std::vector<menu::diagnostic>& out)
        : node_(node), name_(std::move(name)), file_(file), out_(out) {}

    template <class T>
    void get(const char* key, T& into) {
        seen_.insert(key);
        const YAML::Node v = node_[key];
        if (!v) return;
        try {
            into = v.as<T>();
        } catch (const YAML::Exception&) {
            out_.push_back({{file_, v.Mark().line + 1}, name_ + "." + key + ": wrong type"});
        }
    }
    template <class D>
    void get_duration(const char* key, D& into) {
        long long n = into.count();
        get(key, n);
        if (n < 0)
            out_.push_back({{file_, node_[key].Mark().line + 1}, name_ + "." + key + " < 0"});
        into = D(n);
    }
    void unknown_keys() {
        for (const auto& kv : node_) {
            auto k = kv.first.as<std::string>();
            if (!seen_.count(k))
                out_.push_back({{file_, kv.first.Mark().line + 1},
                                "unknown key " + name_ + "." + k,
                                true});
        }
    }

private:
    const YAML::Node node_;
    std::string name_;
    const std::string& file_;
    std::vector<menu::diagnostic>& out_;
    std::set<std::string> seen_;
};

}  // namespace

config_result load_config(const std::string& path) {
    config_result r;
    config& c = r.value;
    c.source_file = path;
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        r.diagnostics.push_back({{path, 0}, "cannot read the config file"});
        return r;
    } catch (const YAML::Exception& e) {
        r.diagnostics.push_back({{path, e.mark.line + 1}, e.msg});
        return r;
    }
    if (!root.IsMap()) {
        r.diagnostics.push_back({{path, 1}, "the config must be a map"});
        return r;
    }
    auto& d = r.diagnostics;
    auto section = [&](const char* name) {
        return section_reader(root[name] ? root[name] : YAML::Node(YAML::NodeType::Map), name,
                              path, d);
    };
    {
        auto s = section("server");
        s.get("address", c.server.address);
        int port = c.server.port;
        s.get("port", port);
        if (port < 0 || port > 65535) d.push_back({{path, 0}, "server.port out of range"});
        c.server.port = static_cast<unsigned short>(port);
        s.get("io_threads", c.server.io_threads);
        if (c.server.io_threads < 1) d.push_back({{path, 0}, "server.io_threads must be >= 1"});
        s.get_duration("read_timeout_ms", c.server.read_timeout);
        s.get_duration("write_timeout_ms", c.server.write_timeout);
        s.get("body_limit_bytes", c.server.body_limit);
        s.get("header_limit_bytes", c.server.header_limit);
        s.get("max_connections", c.server.max_connections);
        s.get_duration("drain_timeout_ms", c.server.drain_timeout);
        s.unknown_keys();
    }
    {
        auto s = section("store");
        s.get("sqlite_path", c.sqlite_path);
        s.unknown_keys();
    }
    {
        auto s = section("menus");
        s.get("directory", c.menu_directory);
        s.unknown_keys();
    }
    {
        auto s = section("ussd");
        s.get_duration("idle_timeout_s", c.ussd.idle_timeout);
        s.get_duration("resume_window_s", c.ussd.resume_window);
        s.get("screen_limit_ucs2", c.ussd.screen_limit_ucs2);
        s.get("screen_limit_gsm7", c.ussd.screen_limit_gsm7);
        s.get("max_options_per_page", c.ussd.max_options_per_page);
        s.get("max_input_bytes", c.ussd.max_input_bytes);
        s.unknown_keys();
        if (c.ussd.screen_limit_ucs2 < 20 || c.ussd.screen_limit_gsm7 < 20)
            d.push_back({{path, 0}, "ussd screen limits must be at least 20"});
        if (c.ussd.max_options_per_page < 1)
            d.push_back({{path, 0}, "ussd.max_options_per_page must be >= 1"});
    }
    {
        auto s = section("phone");
        s.get("default_region", c.default_region);
        s.get("allowed_regions", c.allowed_regions);
        s.unknown_keys();
    }
    {
        auto s = section("log");
        s.get("level", c.log_level);
        s.unknown_keys();
    }
    for (const auto& kv : root) {
        static const std::set<std::string> known = {"server", "store", "menus",
                                                    "ussd",   "phone", "log"};
        if (!known.count(kv.first.as<std::string>()))
            d.push_back({{path, kv.first.Mark().line + 1},
                         "unknown section " + kv.first.as<std::string>(),
                         true});
    }
    // Relative paths are relative to the config file.
    fs::path base = fs::absolute(path).parent_path();
    auto resolve = [&](std::string& p) {
        if (!p.empty() && p != ":memory:" && fs::path(p).is_relative())
            p = (base / p).lexically_normal().string();
    };
    resolve(c.sqlite_path);
    resolve(c.menu_directory);
    return r;
}

}  // namespace gw::app
