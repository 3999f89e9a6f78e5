#pragma once
// Leveled log lines on stderr: "2026-11-25T22:10:03Z info rules loaded: …". Secrets never
// reach this: callers pass settings values through redact-free paths only (no passwords).
#include <sstream>
#include <string>

namespace rapport::log {

enum class Level { debug = 0, info = 1, warning = 2, error = 3 };

void set_level(Level level);
bool set_level(const std::string& name);  // false for an unknown name
bool enabled(Level level);
void write(Level level, const std::string& message);

inline void debug(const std::string& m) { if (enabled(Level::debug)) write(Level::debug, m); }
inline void info(const std::string& m) { write(Level::info, m); }
inline void warning(const std::string& m) { write(Level::warning, m); }
inline void error(const std::string& m) { write(Level::error, m); }

}  // namespace rapport::log
