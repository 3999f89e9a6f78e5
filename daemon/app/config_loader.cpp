#include "app/config_loader.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/rules_source.hpp"
#include "rapport/json_text.hpp"
#include "rapport/summary_draft.hpp"

namespace rapport {

std::optional<std::string> read_text_file(const std::string& path, std::size_t max_bytes,
                                          std::string& error) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        error = "cannot read " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    if (S_ISDIR(st.st_mode)) {
        error = "cannot read " + path + ": it is a directory, not a file";
        return std::nullopt;
    }
    if (S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) > max_bytes) {
        error = path + ": the file is too large (" + std::to_string(st.st_size) +
                " bytes; the limit is " + std::to_string(max_bytes) + " bytes)";
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::string text;
    // Sized up front: growing by doubling would briefly hold the old and the new buffer, about
    // 2.5 times a 70 MB rules file.
    if (S_ISREG(st.st_mode)) text.reserve(static_cast<std::size_t>(st.st_size));
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_bytes) {  // a pipe or a file that grew while we read it
            error = path + ": the file is too large (over " + std::to_string(max_bytes) + " bytes)";
            return std::nullopt;
        }
    }
    if (in.bad()) {
        error = "cannot read " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    return text;
}

PathContext path_context_for(const std::string& settings_path) {
    PathContext ctx;
    std::error_code ec;
    auto abs = std::filesystem::absolute(settings_path, ec);
    ctx.settings_dir = abs.parent_path().string();
    auto env = [](const char* name) {
        const char* v = std::getenv(name);
        return std::string(v ? v : "");
    };
    ctx.xdg_state_home = env("XDG_STATE_HOME");
    ctx.xdg_runtime_dir = env("XDG_RUNTIME_DIR");
    ctx.home = env("HOME");
    return ctx;
}

namespace {

// rules.summary_drafts.template names a text file: relative to the rules file's folder (as the
// settings' paths are relative to the settings file), read here because the core reads no file,
// checked by the core. A broken or missing template makes the whole rules file invalid: a
// --check-config error, and a reload keeps the previous rules.
RulesResult load_summary_template(RulesResult parsed, const std::string& rules_path) {
    const std::string& name = parsed.rules->rules.summary_drafts.template_file;
    std::filesystem::path path(name);
    if (path.is_relative()) path = std::filesystem::path(rules_path).parent_path() / path;
    const std::string shown = path.lexically_normal().string();
    RulesResult out;
    std::string error;
    auto text = read_text_file(shown, TemplateLimits::max_body_bytes, error);
    if (!text) {
        out.diagnostics.push_back(
            Diagnostic{rules_path, 0, 0, "$.rules.summary_drafts.template", error});
        return out;
    }
    out.diagnostics = check_template(*text, TemplatePart::body, shown);
    if (!out.diagnostics.empty()) return out;
    auto rules = std::make_shared<Rules>(*parsed.rules);
    rules->rules.summary_drafts.draft_template.body = normalize_template_text(*text);
    out.rules = std::move(rules);
    return out;
}

}  // namespace

RulesResult rules_from_text(const std::string& text, const std::string& name, const std::string& relative_to) {
    RulesResult result = parse_rules(text, name);
    if (!result.rules || result.rules->rules.summary_drafts.template_file.empty()) return result;
    return load_summary_template(std::move(result), relative_to);
}

RulesResult load_rules(const std::string& rules_path) {
    RulesResult result;
    std::string error;
    auto text = read_text_file(rules_path, kMaxRulesBytes, error);
    if (!text) {
        result.diagnostics.push_back(Diagnostic{rules_path, 0, 0, {}, error});
        // read_text_file already names the path; keep the message readable.
        result.diagnostics.back().file.clear();
        return result;
    }
    return rules_from_text(*text, rules_path, rules_path);
}

namespace {

// Rules from a URL (rules_source.hpp). At start-up the last good copy is enough (the daemon
// checks the URL once it runs); without one the URL must answer now. --check-config always
// asks the URL and keeps nothing. A reload (on the worker pool) asks the URL and falls back to
// the copy when the server cannot be reached; a version that arrives broken refuses the reload.
RulesResult url_rules(const Settings& s, ConfigPurpose purpose, std::vector<std::string>& warnings) {
    if (purpose == ConfigPurpose::start) {
        auto cached = cached_url_rules(s);
        if (cached.rules) return cached;
    }
    UrlRulesOptions options;
    options.conditional = purpose == ConfigPurpose::reload;
    options.write_cache = purpose != ConfigPurpose::check;
    auto checked = check_rules_url(s, options);
    RulesResult out;
    switch (checked.kind) {
        case UrlRulesCheck::Kind::updated: out.rules = checked.rules; return out;
        case UrlRulesCheck::Kind::not_modified: return cached_url_rules(s);
        case UrlRulesCheck::Kind::refused: out.diagnostics = checked.diagnostics; return out;
        case UrlRulesCheck::Kind::unreachable: break;
    }
    if (purpose == ConfigPurpose::reload) {
        auto cached = cached_url_rules(s);
        if (cached.rules) {
            for (const auto& d : checked.diagnostics) warnings.push_back(d.to_string() + "; using the last good copy");
            return cached;
        }
    }
    out.diagnostics = checked.diagnostics;
    if (purpose != ConfigPurpose::check)
        for (auto& d : out.diagnostics)
            d.message += "; there is no copy from an earlier fetch in " + s.rules_file + " to start with";
    return out;
}

}  // namespace

LoadedConfig load_config(const std::string& settings_path, ConfigPurpose purpose) {
    LoadedConfig out;
    std::string error;
    auto text = read_text_file(settings_path, 1u << 20, error);
    if (!text) {
        out.diagnostics.push_back(Diagnostic{"", 0, 0, {}, error});
        return out;
    }
    auto settings = parse_settings(*text, settings_path, path_context_for(settings_path));
    if (!settings.settings) {
        out.diagnostics = std::move(settings.diagnostics);
        return out;
    }
    out.settings = settings.settings;
    struct stat st {};
    bool has_password = false;
    for (const auto& m : out.settings->mailboxes)
        has_password |= !m.imap.password.value.empty() || (m.smtp && !m.smtp->password.value.empty());
    for (const auto& c : out.settings->calendars) has_password |= !c.password.value.empty();
    if (has_password && ::stat(settings_path.c_str(), &st) == 0 && (st.st_mode & 077)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        out.warnings.push_back(settings_path + " holds a password and is readable by others (mode " +
                               mode + "); run: chmod 600 " + settings_path);
    }
    auto rules = out.settings->rules_url.empty() ? load_rules(out.settings->rules_file)
                                                 : url_rules(*out.settings, purpose, out.warnings);
    if (!rules.rules) {
        out.diagnostics = std::move(rules.diagnostics);
        return out;
    }
    out.rules = rules.rules;
    return out;
}

}  // namespace rapport
