#include "menu/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <optional>

namespace gw::menu {
namespace {

namespace fs = std::filesystem;

class reader {
  public:
    reader(std::string file, std::vector<diagnostic>& out) : file_(std::move(file)), out_(out) {}

    source_location at(const YAML::Node& n) const {
        return {file_, n.Mark().line >= 0 ? n.Mark().line + 1 : 0};
    }
    void error(const YAML::Node& n, std::string message) {
        out_.push_back({at(n), std::move(message)});
    }

    std::string scalar(const YAML::Node& n, const std::string& what) {
        if (!n || !n.IsScalar()) {
            error(n, what + " must be a text");
            return {};
        }
        return n.as<std::string>();
    }

    localized texts(const YAML::Node& n, const std::string& what) {
        localized out;
        if (!n || !n.IsMap()) {
            error(n, what + " must be a map of language -> text");
            return out;
        }
        for (const auto& kv : n) out[kv.first.as<std::string>()] = scalar(kv.second, what);
        return out;
    }

    const std::string& file() const { return file_; }

  private:
    std::string file_;
    std::vector<diagnostic>& out_;
};

std::optional<screen_kind> kind_named(const std::string& s) {
    if (s == "language") return screen_kind::language;
    if (s == "choice") return screen_kind::choice;
    if (s == "info") return screen_kind::info;
    if (s == "input") return screen_kind::input;
    if (s == "action") return screen_kind::action;
    if (s == "end") return screen_kind::end;
    return std::nullopt;
}

void read_meta(const YAML::Node& root, reader& r, menu& m) {
    m.meta_where = r.at(root);
    if (!root.IsMap()) {
        r.error(root, "menu.yaml must be a map");
        return;
    }
    if (const auto langs = root["languages"]; langs && langs.IsSequence()) {
        for (const auto& l : langs) {
            language lang{r.scalar(l["code"], "language code"),
                          r.scalar(l["name"], "language name")};
            if (!lang.code.empty()) m.languages.push_back(lang);
        }
    } else {
        r.error(root, "menu.yaml needs a `languages` list");
    }
    m.default_language = r.scalar(root["default_language"], "default_language");
    m.start = r.scalar(root["start"], "start");
    m.home = r.scalar(root["home"], "home");
    if (root["sms_home"]) m.sms_home = r.scalar(root["sms_home"], "sms_home");
    if (const auto limits = root["page_limits"]; limits) {
        if (!limits.IsMap()) {
            r.error(limits, "page_limits must be a map of screen type -> pages");
        } else {
            for (const auto& kv : limits) {
                const auto kind = kv.first.as<std::string>();
                bool ok = kind_named(kind).has_value();
                std::size_t pages = 0;
                try {
                    pages = kv.second.as<std::size_t>();
                } catch (const YAML::Exception&) {
                    ok = false;
                }
                if (!ok || pages == 0)
                    r.error(kv.first, "page_limits." + kind +
                                          ": expected a screen type and a number of pages >= 1");
                else
                    m.page_limits[kind] = pages;
            }
        }
    }
    if (const auto labels = root["labels"]; labels) {
        m.labels_where = r.at(labels);
        if (!labels.IsMap()) {
            r.error(labels, "labels must be a map of variable -> value -> texts");
        } else {
            for (const auto& var : labels) {
                const auto name = var.first.as<std::string>();
                if (!var.second.IsMap()) {
                    r.error(var.second, "labels." + name + " must be a map of value -> texts");
                    continue;
                }
                for (const auto& value : var.second)
                    m.labels[name][value.first.as<std::string>()] = r.texts(
                        value.second, "labels." + name + "." + value.first.as<std::string>());
            }
        }
    }
    if (const auto ui = root["ui"]; ui && ui.IsMap()) {
        for (const auto& kv : ui) {
            auto key = kv.first.as<std::string>();
            m.ui[key] = r.texts(kv.second, "ui." + key);
            m.ui_where[key] = r.at(kv.first);
        }
    } else {
        r.error(root, "menu.yaml needs a `ui` map");
    }
}

void read_screen(const std::string& id, const YAML::Node& key, const YAML::Node& n, reader& r,
                 menu& m) {
    if (m.screens.count(id)) {
        const auto& first = m.screens[id].where;
        r.error(key, "duplicate screen id '" + id + "' (first defined at " + first.file + ":" +
                         std::to_string(first.line) + ")");
        return;
    }
    screen s;
    s.id = id;
    s.where = r.at(key);
    if (!n.IsMap()) {
        r.error(n, "screen '" + id + "' must be a map");
        return;
    }
    const auto kind = kind_named(r.scalar(n["type"], "screen type"));
    s.kind = kind.value_or(screen_kind::info);
    if (!kind) {
        r.error(n["type"] ? n["type"] : n, "screen '" + id +
                                               "': unknown type (expected language, choice, "
                                               "info, input, action or end)");
        return;
    }
    if (s.kind != screen_kind::action) s.text = r.texts(n["text"], "screen '" + id + "' text");
    if (n["next"]) s.next = r.scalar(n["next"], "next");
    if (n["sensitive"]) {
        try {
            s.sensitive = n["sensitive"].as<bool>();
        } catch (const YAML::Exception&) {
            r.error(n["sensitive"], "screen '" + id + "': sensitive must be true or false");
        }
    }
    switch (s.kind) {
        case screen_kind::choice:
        case screen_kind::info:
            // Info screens may end with options too (the next step).
            if (s.kind == screen_kind::info && !n["options"]) break;
            if (!n["options"] || !n["options"].IsSequence() || n["options"].size() == 0) {
                r.error(n, std::string(to_string(s.kind)) + " screen '" + id +
                               "' needs a non-empty `options` list");
                break;
            }
            for (const auto& o : n["options"]) {
                option opt;
                opt.where = r.at(o);
                opt.label = r.texts(o["label"], "option label");
                opt.next = r.scalar(o["next"], "option next");
                if (const auto set = o["set"]; set) {
                    if (!set.IsMap()) {
                        r.error(set, "`set` must be a map of variable -> value");
                    } else {
                        for (const auto& kv : set)
                            opt.set.emplace_back(kv.first.as<std::string>(),
                                                 r.scalar(kv.second, "set value"));
                    }
                }
                s.options.push_back(std::move(opt));
            }
            break;
        case screen_kind::input:
            s.var = r.scalar(n["var"], "input var");
            if (n["min_length"]) s.min_length = n["min_length"].as<std::size_t>();
            if (n["max_length"]) s.max_length = n["max_length"].as<std::size_t>();
            if (n["error"]) s.error = r.texts(n["error"], "input error");
            if (s.next.empty()) r.error(n, "input screen '" + id + "' needs `next`");
            break;
        case screen_kind::action:
            s.action = r.scalar(n["action"], "action");
            if (std::find(action_kinds().begin(), action_kinds().end(), s.action) ==
                action_kinds().end())
                r.error(n["action"] ? n["action"] : n,
                        "action screen '" + id +
                            "': action must be create_case, escalate, lookup_case or "
                            "send_info_sms");
            if (s.next.empty()) r.error(n, "action screen '" + id + "' needs `next`");
            break;
        case screen_kind::language:
            if (s.next.empty()) r.error(n, "language screen '" + id + "' needs `next`");
            break;
        case screen_kind::end:
            break;
    }
    m.screens.emplace(id, std::move(s));
}

void read_screens(const YAML::Node& root, reader& r, menu& m) {
    if (!root.IsMap() || !root["screens"] || !root["screens"].IsMap()) {
        r.error(root, "expected a top-level `screens:` map");
        return;
    }
    for (const auto& kv : root["screens"])
        read_screen(kv.first.as<std::string>(), kv.first, kv.second, r, m);
}

}  // namespace

load_result load_menu(const std::string& directory) {
    load_result out;
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(directory, ec))
        if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
    if (ec) {
        out.diagnostics.push_back({{directory, 0}, "cannot read menu directory: " + ec.message()});
        return out;
    }
    std::sort(files.begin(), files.end());
    auto meta = std::find_if(files.begin(), files.end(),
                             [](const fs::path& p) { return p.filename() == "menu.yaml"; });
    if (meta == files.end()) {
        out.diagnostics.push_back({{directory, 0}, "menu.yaml is missing"});
        return out;
    }
    std::rotate(files.begin(), meta, meta + 1);  // meta first

    for (const auto& path : files) {
        reader r(path.string(), out.diagnostics);
        try {
            YAML::Node root = YAML::LoadFile(path.string());
            if (path.filename() == "menu.yaml")
                read_meta(root, r, out.value);
            else
                read_screens(root, r, out.value);
        } catch (const YAML::Exception& e) {
            out.diagnostics.push_back(
                {{path.string(), e.mark.line >= 0 ? e.mark.line + 1 : 0}, e.msg});
        }
    }
    return out;
}

}  // namespace gw::menu
