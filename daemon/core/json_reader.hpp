#pragma once
// Walks a parsed JSON document for the rules and settings parsers: typed reads that record a
// diagnostic with the JSON path instead of throwing, so one pass reports every problem.
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rapport/diagnostic.hpp"
#include "rapport/time.hpp"

namespace rapport::detail {

using nlohmann::json;

class JsonReader {
public:
    JsonReader(std::string file, Diagnostics& out) : file_(std::move(file)), out_(out) {}

    void error(const std::string& path, const std::string& message) {
        out_.push_back(Diagnostic{file_, 0, 0, path, message});
    }

    static std::string key_path(const std::string& parent, const std::string& key);
    static std::string index_path(const std::string& parent, std::size_t index) {
        return parent + "[" + std::to_string(index) + "]";
    }
    static const char* type_name(const json& v);

    // Checks that v is an object whose keys are all in `allowed`; reports unknown keys with a
    // suggestion. Returns false (and reports) when v is not an object.
    bool object(const json& v, const std::string& path, std::initializer_list<const char*> allowed,
                std::initializer_list<const char*> required = {});

    // Reads obj[key]; nullptr when absent. Reports a type error when present with another type.
    const json* find(const json& obj, const std::string& path, const char* key);

    std::optional<std::string> string(const json& obj, const std::string& path, const char* key,
                                      bool non_empty = true);
    std::optional<bool> boolean(const json& obj, const std::string& path, const char* key);
    std::optional<long long> integer(const json& obj, const std::string& path, const char* key,
                                     long long min, long long max);
    std::optional<Seconds> duration(const json& obj, const std::string& path, const char* key);
    std::optional<Date> date(const json& obj, const std::string& path, const char* key);
    // Array of strings; each bad element reported. Absent → nullopt.
    std::optional<std::vector<std::string>> strings(const json& obj, const std::string& path,
                                                    const char* key);
    // Array (of anything); reports when present and not an array.
    const json* array(const json& obj, const std::string& path, const char* key);

private:
    std::string file_;
    Diagnostics& out_;
};

}  // namespace rapport::detail
