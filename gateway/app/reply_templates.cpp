#include "app/reply_templates.hpp"

#include <yaml-cpp/yaml.h>

#include <regex>
#include <set>

#include "common/text.hpp"

namespace gw::app {

reply_templates_result load_reply_templates(const std::string& path,
                                            const std::vector<std::string>& languages) {
    reply_templates_result r;
    auto& d = r.diagnostics;
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        d.push_back({{path, 0}, "cannot read the reply templates"});
        return r;
    } catch (const YAML::Exception& e) {
        d.push_back({{path, e.mark.line + 1}, e.msg});
        return r;
    }
    const YAML::Node list = root["templates"];
    if (!list || !list.IsMap()) {
        d.push_back({{path, 1}, "expected a map `templates:` of template id -> label and text"});
        return r;
    }
    static const std::regex blank("\\{[^}]*\\}");
    try {
        for (const auto& kv : list) {
            service::reply_template t;
            t.id = kv.first.as<std::string>();
            const int line = kv.first.Mark().line + 1;
            if (!kv.second.IsMap() || !kv.second["label"] || !kv.second["text"] ||
                !kv.second["label"].IsMap() || !kv.second["text"].IsMap()) {
                d.push_back(
                    {{path, line}, "template " + t.id + ": needs label and text, per language"});
                continue;
            }
            t.label = kv.second["label"].as<menu::localized>();
            t.text = kv.second["text"].as<menu::localized>();
            for (const auto& lang : languages) {
                if (!t.label.count(lang) || !t.text.count(lang)) {
                    d.push_back(
                        {{path, line}, "template " + t.id + ": no label or text in " + lang});
                    continue;
                }
                const std::string& text = t.text[lang];
                for (auto it = std::sregex_iterator(text.begin(), text.end(), blank);
                     it != std::sregex_iterator(); ++it)
                    if (it->str() != "{ref}")
                        d.push_back({{path, line},
                                     "template " + t.id + " (" + lang + "): unknown blank " +
                                         it->str() + " (only {ref})"});
                // Two UCS-2 segments at most, with a reference code filled in.
                if (count_code_points(text) > 134 - 4)
                    d.push_back(
                        {{path, line},
                         "template " + t.id + " (" + lang + "): longer than two SMS segments"});
            }
            r.value.push_back(std::move(t));
        }
    } catch (const YAML::Exception& e) {
        d.push_back({{path, e.mark.line + 1}, e.msg});
    }
    if (r.value.empty() && d.empty()) d.push_back({{path, 1}, "no reply templates"});
    return r;
}

}  // namespace gw::app
