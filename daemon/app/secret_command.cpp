#include "app/secret_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rapport {

std::optional<std::string> run_password_command(const std::vector<std::string>& argv,
                                                std::chrono::seconds timeout, std::string& error) {
    if (argv.empty()) {
        error = "password_command is empty";
        return std::nullopt;
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        error = std::string("password_command: pipe: ") + std::strerror(errno);
        return std::nullopt;
    }
    const pid_t pid = fork();
    if (pid < 0) {
        error = std::string("password_command: fork: ") + std::strerror(errno);
        close(out[0]);
        close(out[1]);
        return std::nullopt;
    }
    if (pid == 0) {
        dup2(out[1], 1);
        const int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) dup2(devnull, 0);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(out[1]);
    std::string output;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    while (output.size() < 64 * 1024) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{out[0], POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[4096];
        const ssize_t n = read(out[0], buf, sizeof buf);
        if (n <= 0) break;
        output.append(buf, static_cast<std::size_t>(n));
    }
    close(out[0]);
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (timed_out) {
        error = "password_command " + argv[0] + " did not answer within " + std::to_string(timeout.count()) + " s";
        return std::nullopt;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        error = "password_command " + argv[0] + (WIFEXITED(status) && WEXITSTATUS(status) == 127
                                                      ? " could not be run (not found?)"
                                                      : " failed (exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) + ")");
        return std::nullopt;
    }
    const auto eol = output.find_first_of("\r\n");
    std::string first = output.substr(0, eol);
    if (first.empty()) {
        error = "password_command " + argv[0] + " printed no password";
        return std::nullopt;
    }
    return first;
}

}  // namespace rapport
