#include "app/secret_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rapport {

namespace {

// Waits for the child until the deadline; false when it is still running then.
bool wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status) {
    for (;;) {
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return true;
        if (r < 0 && errno != EINTR) return true;  // not our child any more: nothing to wait for
        if (std::chrono::steady_clock::now() >= deadline) return false;
        usleep(10 * 1000);
    }
}

}  // namespace

std::optional<std::string> run_password_command(const std::vector<std::string>& argv,
                                                std::chrono::seconds timeout, std::string& error,
                                                const char* what) {
    if (argv.empty()) {
        error = "password_command is empty";
        return std::nullopt;
    }
    // Everything the child needs is made here, before fork(): another thread may hold the
    // allocator's lock at the moment of the fork, so the child must not allocate. It calls
    // only async-signal-safe functions (sigprocmask, fcntl, dup2, open, close, _exit) and execvp, which in
    // glibc searches PATH in a stack buffer without allocating.
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // The worker pool blocks signals in its threads; the program must start with none blocked
    // (the mask survives exec), or it could not be interrupted the usual way.
    sigset_t unblock_all;
    sigemptyset(&unblock_all);

    int out[2];
    // Close-on-exec: a program another thread starts meanwhile must not inherit the write end,
    // or our read would wait for that program to exit, not ours.
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
        sigprocmask(SIG_SETMASK, &unblock_all, nullptr);
        // A duplicate does not inherit close-on-exec; an fd that already is 1 (the daemon's
        // stdout was closed) must lose it by hand.
        if (out[1] == 1) fcntl(1, F_SETFD, 0);
        else dup2(out[1], 1);
        const int devnull = open("/dev/null", O_RDWR);
        if (devnull > 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        execvp(args[0], args.data());
        _exit(127);
    }
    close(out[1]);
    std::string output;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    bool too_long = false;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{out[0], POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[4096];
        const ssize_t n = read(out[0], buf, sizeof buf);
        // A signal is not the end of the output: taking it for one would return a cut password.
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        output.append(buf, static_cast<std::size_t>(n));
        // Stop reading and kill it: a program that goes on writing would otherwise block on
        // the full pipe forever, and we would wait for it forever.
        if (output.size() > kMaxSecretOutput) {
            too_long = true;
            break;
        }
    }
    close(out[0]);
    int status = 0;
    // EOF is not the end of the program: one that closed its stdout and went on running is
    // still bounded by the timeout.
    if (timed_out || too_long || !wait_until(pid, deadline, status)) {
        if (!too_long) timed_out = true;
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (timed_out) {
        error = "password_command " + argv[0] + " did not answer within " + std::to_string(timeout.count()) +
                " s; check that it runs without asking for input";
        return std::nullopt;
    }
    if (too_long) {
        error = "password_command " + argv[0] + " printed more than " + std::to_string(kMaxSecretOutput / 1024) +
                " KiB; it must print the " + what + " alone on its first line";
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
        error = "password_command " + argv[0] + " printed no " + what + " (its first line is empty)";
        return std::nullopt;
    }
    return first;
}

}  // namespace rapport
