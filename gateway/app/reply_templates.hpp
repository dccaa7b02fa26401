#pragma once
// The operators' SMS reply templates (config/reply-templates.yaml):
// discreet texts in every menu language, with {ref} as the only blank.
#include <string>
#include <vector>

#include "menu/diagnostic.hpp"
#include "service/hotline_service.hpp"

namespace gw::app {

struct reply_templates_result {
    std::vector<service::reply_template> value;
    std::vector<menu::diagnostic> diagnostics;
};

// `languages`: every template needs a text in each of them.
reply_templates_result load_reply_templates(const std::string& path,
                                            const std::vector<std::string>& languages);

}  // namespace gw::app
