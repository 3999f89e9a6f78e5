#pragma once
// password_command: runs argv (no shell), returns the first line of its stdout. Blocking (up
// to `timeout`), so the daemon runs it as a WorkerPool job, never on the io_context's thread.
// Safe to call from several threads at once.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace rapport {

// nullopt on failure, with `error` naming the program and the reason (never the output).
std::optional<std::string> run_password_command(const std::vector<std::string>& argv,
                                                std::chrono::seconds timeout, std::string& error);

}  // namespace rapport
