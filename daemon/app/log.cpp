#include "app/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace rapport::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mutex;
const char* name(Level l) {
    switch (l) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warning: return "warning";
        case Level::error: return "error";
    }
    return "info";
}
}  // namespace

void set_level(Level level) { g_level = static_cast<int>(level); }

bool set_level(const std::string& n) {
    for (Level l : {Level::debug, Level::info, Level::warning, Level::error})
        if (n == name(l)) {
            set_level(l);
            return true;
        }
    return false;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void write(Level level, const std::string& message) {
    if (!enabled(level)) return;
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::lock_guard<std::mutex> lock(g_mutex);
    std::fprintf(stderr, "%s %s %s\n", stamp, name(level), message.c_str());
    std::fflush(stderr);
}

}  // namespace rapport::log
