#pragma once
// Helpers for tests that run real programs (rapportd, Dovecot, Radicale, an SMTP sink):
// a temporary folder that removes itself, a child process that is killed when the test ends
// (also when it fails), free loopback ports, and waiting for a port to accept.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace rapport::test {

inline std::string source_dir() { return RAPPORT_SOURCE_DIR; }
inline std::string binary_dir() { return RAPPORT_BINARY_DIR; }
inline std::string program(const std::string& name) { return binary_dir() + "/bin/" + name; }

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "rapport-test-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A child process. Its stdout and stderr go to files so tests can read them while it runs.
// The destructor sends SIGTERM, waits up to 5 s, then SIGKILLs: nothing outlives the test.
class Child {
public:
    Child(std::vector<std::string> argv, const std::string& log_path,
          const std::vector<std::string>& extra_env = {})
        : log_path_(log_path) {
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            setpgid(0, 0);  // own process group, so stop() also reaches grandchildren
            int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
            int devnull = open("/dev/null", O_RDONLY);
            if (devnull >= 0) dup2(devnull, 0);
            for (const auto& e : extra_env) putenv(strdup(e.c_str()));
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            execvp(args[0], args.data());
            _exit(127);
        }
        setpgid(pid_, pid_);
    }
    ~Child() { stop(); }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    std::string log() const { return read_file(log_path_); }

    bool running() {
        if (pid_ <= 0) return false;
        int status = 0;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            exit_status_ = status;
            pid_ = -1;
            return false;
        }
        return true;
    }

    void signal(int sig) {
        if (pid_ > 0) kill(pid_, sig);
    }

    // Returns the wait status, or -1 on timeout.
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (running()) {
            if (std::chrono::steady_clock::now() > deadline) return -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return exit_status_;
    }

    int stop(std::chrono::milliseconds grace = std::chrono::seconds(5)) {
        if (pid_ <= 0) return exit_status_;
        kill(-pid_, SIGTERM);
        kill(pid_, SIGTERM);
        int status = wait(grace);
        if (status == -1 && pid_ > 0) {
            kill(-pid_, SIGKILL);
            kill(pid_, SIGKILL);
            status = wait(std::chrono::seconds(5));
        }
        return status;
    }

    // Waits until the log contains text; returns false on timeout or when the child exited.
    bool wait_for_log(const std::string& text,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (log().find(text) != std::string::npos) return true;
            if (!running()) return log().find(text) != std::string::npos;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

private:
    pid_t pid_ = -1;
    int exit_status_ = -1;
    std::string log_path_;
};

// A port on 127.0.0.1 that was free a moment ago (bind to 0, read, close), and never one this
// process was given before: the kernel can hand out a port it just released again (measured
// with the Python twin: 14 calls in a row gave a duplicate in 41 of 5,000 runs), and two
// servers of one test on the same port fail to start.
inline int free_port() {
    static std::mutex mutex;
    static std::set<int> given;
    std::lock_guard<std::mutex> lock(mutex);
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        close(fd);
        const int port = ntohs(addr.sin_port);
        if (given.insert(port).second) return port;
    }
}

inline bool port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
}

inline bool wait_for_port(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (port_open(port)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// Runs a command to completion and returns {exit status, combined output}.
inline std::pair<int, std::string> run(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    TempDir dir;
    Child child(argv, dir / "out.log");
    int status = child.wait(timeout);
    std::string out = child.log();
    if (status == -1) return {-1, out};
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

}  // namespace rapport::test
