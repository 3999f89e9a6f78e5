#pragma once
// The running daemon: one io_context on one thread owns all state (settings, rules, the
// account directory, the store); signals arrive through Asio so reload and stop run there too.
#include <memory>
#include <string>

#include "app/config_loader.hpp"
#include "rapport/time.hpp"

namespace rapport {

class SystemClock : public Clock {
public:
    Instant instant() const override;
};

class Daemon {
public:
    Daemon(std::string settings_path, LoadedConfig initial);
    ~Daemon();
    // Runs until SIGTERM/SIGINT; returns the process exit code.
    int run();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

std::string describe_directory(const Rules& rules);

}  // namespace rapport
