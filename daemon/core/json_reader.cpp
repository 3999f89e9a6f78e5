#include "json_reader.hpp"

#include <algorithm>
#include <cctype>

namespace rapport::detail {
namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string show_value(const std::string& s) {
    std::string shown = s.size() > 60 ? s.substr(0, 60) + "…" : s;
    return json(shown).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string JsonReader::key_path(const std::string& parent, const std::string& key) {
    const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (plain) return parent + "." + key;
    return parent + "[" + show_value(key) + "]";
}

const char* JsonReader::type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::object: return "an object";
        case json::value_t::array: return "an array";
        case json::value_t::string: return "a string";
        case json::value_t::boolean: return "a boolean";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float: return "a number";
        default: return "an unsupported value";
    }
}

bool JsonReader::object(const json& v, const std::string& path,
                        std::initializer_list<const char*> allowed,
                        std::initializer_list<const char*> required) {
    if (!v.is_object()) {
        error(path, std::string("expected an object, got ") + type_name(v));
        return false;
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string& key = it.key();
        if (key == "$comment") continue;  // the documented way to annotate any object
        if (std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }))
            continue;
        std::string best;
        std::size_t best_distance = 3;
        for (const char* a : allowed) {
            const std::size_t d = edit_distance(key, a);
            if (d < best_distance) best_distance = d, best = a;
        }
        std::string message = "unknown key " + show_value(key);
        if (!best.empty()) {
            message += " (did you mean \"" + best + "\"?)";
        } else {
            message += "; expected one of:";
            bool first = true;
            for (const char* a : allowed) message += (first ? " " : ", ") + std::string(a), first = false;
        }
        error(key_path(path, key), message);
    }
    for (const char* r : required)
        if (!v.contains(r)) error(path, std::string("missing required key \"") + r + "\"");
    return true;
}

const json* JsonReader::find(const json& obj, const std::string&, const char* key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

std::optional<std::string> JsonReader::string(const json& obj, const std::string& path,
                                              const char* key, bool non_empty) {
    const json* v = find(obj, path, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
        error(key_path(path, key), std::string("expected a string, got ") + type_name(*v));
        return std::nullopt;
    }
    std::string s = v->get<std::string>();
    if (non_empty && s.find_first_not_of(" \t") == std::string::npos) {
        error(key_path(path, key), "must not be empty");
        return std::nullopt;
    }
    return s;
}

std::optional<bool> JsonReader::boolean(const json& obj, const std::string& path, const char* key) {
    const json* v = find(obj, path, key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) {
        error(key_path(path, key), std::string("expected true or false, got ") + type_name(*v));
        return std::nullopt;
    }
    return v->get<bool>();
}

std::optional<long long> JsonReader::integer(const json& obj, const std::string& path,
                                             const char* key, long long min, long long max) {
    const json* v = find(obj, path, key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer() && !v->is_number_unsigned()) {
        error(key_path(path, key), std::string("expected a whole number, got ") +
                                       (v->is_number_float() ? "a fraction" : type_name(*v)));
        return std::nullopt;
    }
    const bool too_big = v->is_number_unsigned() && v->get<unsigned long long>() >
                                                        static_cast<unsigned long long>(max);
    const long long n = too_big ? max + 1 : v->get<long long>();
    if (too_big || n < min || n > max) {
        error(key_path(path, key), "must be between " + std::to_string(min) + " and " +
                                       std::to_string(max) + ", got " + v->dump());
        return std::nullopt;
    }
    return n;
}

std::optional<Seconds> JsonReader::duration(const json& obj, const std::string& path,
                                            const char* key) {
    auto s = string(obj, path, key);
    if (!s) return std::nullopt;
    auto d = parse_duration(*s);
    if (!d) {
        error(key_path(path, key), show_value(*s) +
              " is not an ISO 8601 duration such as \"PT5M\", \"PT2H\" or \"P14D\" "
              "(years and months are not allowed)");
        return std::nullopt;
    }
    return d;
}

std::optional<Date> JsonReader::date(const json& obj, const std::string& path, const char* key) {
    auto s = string(obj, path, key);
    if (!s) return std::nullopt;
    auto d = parse_date(*s);
    if (!d) {
        error(key_path(path, key), show_value(*s) + " is not an ISO 8601 date such as \"2026-12-01\"");
        return std::nullopt;
    }
    return d;
}

const json* JsonReader::array(const json& obj, const std::string& path, const char* key) {
    const json* v = find(obj, path, key);
    if (!v) return nullptr;
    if (!v->is_array()) {
        error(key_path(path, key), std::string("expected an array, got ") + type_name(*v));
        return nullptr;
    }
    return v;
}

std::optional<std::vector<std::string>> JsonReader::strings(const json& obj,
                                                            const std::string& path,
                                                            const char* key) {
    const json* v = array(obj, path, key);
    if (!v) return std::nullopt;
    std::vector<std::string> out;
    const std::string p = key_path(path, key);
    for (std::size_t i = 0; i < v->size(); ++i) {
        const json& e = (*v)[i];
        if (!e.is_string()) {
            error(index_path(p, i), std::string("expected a string, got ") + type_name(e));
            continue;
        }
        out.push_back(e.get<std::string>());
    }
    return out;
}

}  // namespace rapport::detail
