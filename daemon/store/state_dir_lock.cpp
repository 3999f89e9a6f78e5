#include "store/state_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "store/state_store.hpp"

namespace rapport {

StateDirLock::StateDirLock(const std::string& state_dir) {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    ::chmod(state_dir.c_str(), 0700);
    const std::string path = (std::filesystem::path(state_dir) / "rapportd.lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0)
        throw StoreError(StoreError::Kind::io, "cannot open " + path + ": " + std::strerror(errno) +
                                                   "; check that state_dir is writable by this user");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char buf[32] = {};
        const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
        std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
        while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
        ::close(fd_);
        fd_ = -1;
        if (err == EWOULDBLOCK)
            throw StoreError(StoreError::Kind::busy,
                             "state_dir " + state_dir + " is in use by another rapportd" +
                                 (pid.empty() ? "" : " (pid " + pid + ")") + "; stop it first" +
                                 (pid.empty() ? "" : " (kill " + pid + ")") +
                                 ", or give this one another state_dir in its settings");
        throw StoreError(StoreError::Kind::io, "cannot lock " + path + ": " + std::strerror(err));
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
}

StateDirLock::~StateDirLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace rapport
